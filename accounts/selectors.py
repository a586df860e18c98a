from django.db.models import Count, Q, QuerySet

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
    """Every user for the administrador's people page, with their team, roles and clients counted."""
    return (
        User.objects.select_related("team", "team__manager").prefetch_related("groups")
        .annotate(client_count=Count("clients", filter=Q(clients__deleted_at__isnull=True)))
        .order_by("-is_active", "first_name", "last_name", "username")
    )
