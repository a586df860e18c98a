from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Role, Team, User


@transaction.atomic
def user_create(
    *, username: str, password: str, role: str, first_name: str = "", last_name: str = "",
    email: str = "", team: Team | None = None, language: str = "es",
) -> User:
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name,
        email=email, team=team, language=language,
        # The admin site lets administradores in (see core.admin_site); is_staff keeps
        # Django's own checks, like the admin's "view site" links, consistent.
        is_staff=role == Role.ADMINISTRADOR,
    )
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user
