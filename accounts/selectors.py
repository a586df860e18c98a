from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User


def salespeople_visible_to(user: User) -> QuerySet[User]:
    """The salespeople whose portfolios `user` may see and hand clients to."""
    people = User.objects.filter(is_active=True)
    if user.is_administrador:
        return people.filter(groups__name__in=[Role.COMERCIAL, Role.GERENTE]).distinct()
    if user.is_gerente:
        return people.filter(Q(team__manager=user) | Q(pk=user.pk)).distinct()
    return people.filter(pk=user.pk)


def colleagues(*, exclude: set[int]) -> QuerySet[User]:
    """The active salespeople (comerciales and gerentes) a client can be shared with, less `exclude`."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.COMERCIAL, Role.GERENTE])
        .exclude(pk__in=exclude).distinct()
    )


def people_list() -> QuerySet[User]:
    """Every user for the administrador's people page, with their team and roles (the view adds
    their clients counted: clients.models.client_counts_by_owner)."""
    return (
        User.objects.select_related("team", "team__manager").prefetch_related("groups")
        .order_by("-is_active", "first_name", "last_name", "username")
    )


def two_factor_enabled(user: User) -> bool:
    """Whether `user` logs in with a code from an authenticator app (a confirmed TOTP device)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def two_factor_status(user: User) -> tuple[bool, int]:
    """(two-factor login on, recovery codes left) in one query, for the account page."""
    row = User.objects.filter(pk=user.pk).annotate(
        on=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        codes=Coalesce(Subquery(
            StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True)
            .values("device__user").annotate(n=Count("pk")).values("n")
        ), 0),
    ).values_list("on", "codes").get()
    return bool(row[0]), row[1]
