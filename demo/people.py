"""The demo's staff: an administrador, two gerentes with their teams, and N comerciales."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Role, Team, User
from accounts.services import user_create
from clients.text import fold
from demo.sampling import faker_class

DEMO_PASSWORD = "cartera-demo"  # noqa: S105 - printed on purpose: these are demo logins
EMAIL_DOMAIN = "cartera.example"

TEAMS = {"norte": "Equipo Norte", "sur": "Equipo Sur"}

# username, first name, last name, role, team key, language
MANAGEMENT = [
    ("admin", "Lucía", "Fernández Ortega", Role.ADMINISTRADOR, None, "es"),
    ("gerente", "Javier", "Morales Prieto", Role.GERENTE, "norte", "es"),
    ("gerente2", "Ana Beatriz", "Souza Lima", Role.GERENTE, "sur", "pt-br"),
]
SALESPEOPLE = [
    ("Carlos", "Gómez Herrera", "es"),
    ("Laura", "Sánchez Vidal", "es"),
    ("Inês", "Carvalho Mendes", "pt-br"),
    ("Rafael", "Oliveira Santos", "pt-br"),
    ("Marta", "Iglesias Núñez", "es"),
    ("Thiago", "Ferreira Costa", "pt-br"),
    ("Sergio", "Domínguez Rey", "es"),
    ("Beatriz", "Rocha Almeida", "pt-br"),
]


@dataclass(frozen=True)
class Staff:
    id: int
    language: str  # "es" / "pt"
    manager_id: int


def _staff_email(first: str, last: str) -> str:
    return f"{fold(first).split()[0]}.{fold(last).split()[0]}@{EMAIL_DOMAIN}"


def staff_create(comerciales: int, seed: int) -> tuple[list[Staff], list[tuple[str, str, str, str]]]:
    """The staff with their teams, and their logins (username, password, role, team) for the command to print."""
    people: dict[str, User] = {}
    teams: dict[str, Team] = {}
    logins = []
    for username, first, last, role, team_key, language in MANAGEMENT:
        user = user_create(username=username, password=DEMO_PASSWORD, role=role, first_name=first, last_name=last,
                           email=_staff_email(first, last), language=language)
        if team_key:
            teams[team_key] = Team.objects.create(name=TEAMS[team_key], manager=user)
            user.team = teams[team_key]
            user.save(update_fields=["team"])
        people[username] = user
        logins.append((username, DEMO_PASSWORD, role, TEAMS.get(team_key, "")))
    names = list(SALESPEOPLE)
    if comerciales > len(names):
        names += _more_salespeople(comerciales - len(names), seed)
    staff = []
    north = (comerciales + 1) // 2
    for number in range(1, comerciales + 1):
        first, last, language = names[number - 1]
        team_key = "norte" if number <= north else "sur"
        user = user_create(username=f"comercial{number}", password=DEMO_PASSWORD, role=Role.COMERCIAL,
                           first_name=first, last_name=last, email=_staff_email(first, last),
                           team=teams[team_key], language=language)
        staff.append(Staff(id=user.pk, language=language[:2], manager_id=teams[team_key].manager_id))
        logins.append((user.username, DEMO_PASSWORD, Role.COMERCIAL, TEAMS[team_key]))
    return staff, logins


def _more_salespeople(count: int, seed: int) -> list[tuple[str, str, str]]:
    Faker = faker_class()

    people = []
    for index in range(count):
        locale, language = (("es_ES", "es"), ("pt_BR", "pt-br"))[index % 2]
        fake = Faker(locale)
        fake.seed_instance(seed * 7919 + index)
        people.append((fake.first_name(), f"{fake.last_name()} {fake.last_name()}", language))
    return people
