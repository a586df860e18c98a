from django.db.models import Q, QuerySet

from accounts.models import Role, User


def salespeople_visible_to(user: User) -> QuerySet[User]:
    """The salespeople whose portfolios `user` may see and hand clients to."""
    people = User.objects.filter(is_active=True)
    if user.is_administrador:
        return people.filter(groups__name__in=[Role.COMERCIAL, Role.GERENTE]).distinct()
    if user.is_gerente:
        return people.filter(Q(team__manager=user) | Q(pk=user.pk)).distinct()
    return people.filter(pk=user.pk)
