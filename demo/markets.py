"""Where the demo's clients are: four countries, each a fixed table of real cities with their
regions, postal codes and phone prefixes, so that a client's city, region, postal code, phone and
country agree."""

import datetime as dt
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    city: str
    region: str
    postal_from: int
    postal_to: int
    phone_area: str  # Brazilian DDD / Mexican area code; unused in Spain and Portugal
    weight: float


@dataclass(frozen=True)
class Market:
    locale: str  # Faker locale
    country: str
    language: str  # "es" or "pt"
    currency: str
    weight: float
    places: tuple[Place, ...]
    company_suffixes: tuple[str, ...]


def _places(*rows) -> tuple[Place, ...]:
    return tuple(Place(*row) for row in rows)


MARKETS = (
    Market("es_ES", "ES", "es", "EUR", 0.45, _places(
        ("Madrid", "Comunidad de Madrid", 28001, 28080, "", 30),
        ("Barcelona", "Cataluña", 8001, 8042, "", 18),
        ("Valencia", "Comunitat Valenciana", 46001, 46026, "", 9),
        ("Sevilla", "Andalucía", 41001, 41020, "", 7),
        ("Zaragoza", "Aragón", 50001, 50022, "", 6),
        ("Málaga", "Andalucía", 29001, 29018, "", 5),
        ("Bilbao", "País Vasco", 48001, 48015, "", 5),
        ("Valladolid", "Castilla y León", 47001, 47017, "", 3),
        ("Vigo", "Galicia", 36201, 36216, "", 3),
        ("A Coruña", "Galicia", 15001, 15011, "", 3),
        ("Murcia", "Región de Murcia", 30001, 30012, "", 4),
        ("Palma", "Illes Balears", 7001, 7015, "", 3),
        ("Alicante", "Comunitat Valenciana", 3001, 3016, "", 3),
        ("Granada", "Andalucía", 18001, 18015, "", 2),
        ("Oviedo", "Principado de Asturias", 33001, 33013, "", 2),
        ("Pamplona", "Comunidad Foral de Navarra", 31001, 31016, "", 2),
        ("Santander", "Cantabria", 39001, 39012, "", 2),
        ("Salamanca", "Castilla y León", 37001, 37008, "", 1),
        ("Córdoba", "Andalucía", 14001, 14014, "", 2),
        ("Las Palmas de Gran Canaria", "Canarias", 35001, 35019, "", 3),
    ), ("S.L.", "S.L.", "S.A.", "S.L.U.")),
    Market("pt_PT", "PT", "pt", "EUR", 0.20, _places(
        ("Lisboa", "Lisboa", 1000, 1998, "", 30),
        ("Porto", "Porto", 4000, 4369, "", 20),
        ("Braga", "Braga", 4700, 4719, "", 7),
        ("Coimbra", "Coimbra", 3000, 3049, "", 6),
        ("Faro", "Faro", 8000, 8009, "", 4),
        ("Aveiro", "Aveiro", 3800, 3814, "", 4),
        ("Setúbal", "Setúbal", 2900, 2914, "", 4),
        ("Funchal", "Região Autónoma da Madeira", 9000, 9064, "", 3),
        ("Leiria", "Leiria", 2400, 2419, "", 3),
        ("Viseu", "Viseu", 3500, 3514, "", 3),
        ("Évora", "Évora", 7000, 7009, "", 2),
        ("Guimarães", "Braga", 4800, 4839, "", 3),
    ), ("Lda.", "Lda.", "Unipessoal Lda.", "S.A.")),
    # Brazil and Mexico pay in their currencies; the figures add the amounts converted into euros.
    Market("pt_BR", "BR", "pt", "BRL", 0.20, _places(
        ("São Paulo", "São Paulo", 1000, 5999, "11", 30),
        ("Rio de Janeiro", "Rio de Janeiro", 20000, 23799, "21", 18),
        ("Belo Horizonte", "Minas Gerais", 30000, 31999, "31", 8),
        ("Curitiba", "Paraná", 80000, 82999, "41", 6),
        ("Porto Alegre", "Rio Grande do Sul", 90000, 91999, "51", 6),
        ("Salvador", "Bahia", 40000, 42499, "71", 6),
        ("Recife", "Pernambuco", 50000, 52999, "81", 5),
        ("Fortaleza", "Ceará", 60000, 61599, "85", 5),
        ("Brasília", "Distrito Federal", 70000, 72799, "61", 6),
        ("Campinas", "São Paulo", 13000, 13139, "19", 4),
        ("Florianópolis", "Santa Catarina", 88000, 88099, "48", 3),
        ("Goiânia", "Goiás", 74000, 74899, "62", 3),
    ), ("Ltda.", "Ltda.", "ME", "S.A.")),
    Market("es_MX", "MX", "es", "MXN", 0.15, _places(
        ("Ciudad de México", "Ciudad de México", 1000, 16999, "55", 35),
        ("Guadalajara", "Jalisco", 44100, 44990, "33", 14),
        ("Monterrey", "Nuevo León", 64000, 64999, "81", 13),
        ("Puebla", "Puebla", 72000, 72599, "222", 7),
        ("Querétaro", "Querétaro", 76000, 76249, "442", 6),
        ("Mérida", "Yucatán", 97000, 97399, "999", 5),
        ("Tijuana", "Baja California", 22000, 22699, "664", 6),
        ("León", "Guanajuato", 37000, 37699, "477", 5),
        ("Toluca", "Estado de México", 50000, 50299, "722", 5),
        ("Cancún", "Quintana Roo", 77500, 77599, "998", 4),
    ), ("S.A. de C.V.", "S.A. de C.V.", "S. de R.L. de C.V.")),
)
# Units of each market's currency per euro: catalogue prices are in euros, a market prices in its own.
FX_TO = {"EUR": 1.0, "BRL": 6.2, "MXN": 21.0}
RATE_SCALE = 10**8  # an ExchangeRate's 8 decimals, as an integer


def monthly_rates(first_day: int, today: int) -> dict[str, list[tuple[int, int]]]:
    """{currency: [(first day of a month as an ordinal, euros per unit × RATE_SCALE)]}: one rate a
    month over the demo's history for each currency that is not the euro, drifting a few percent
    (deterministic, so that a second build writes the same table)."""
    start = dt.date.fromordinal(first_day).replace(day=1)
    months = []
    while start.toordinal() <= today:
        months.append(start.toordinal())
        start = (start + dt.timedelta(days=32)).replace(day=1)
    return {
        code: [(day, round(RATE_SCALE / fx * (1 + 0.04 * math.sin(index / 3 + len(code))))) for index, day in enumerate(months)]
        for code, fx in FX_TO.items() if code != "EUR"
    }


def day_rates(first_day: int, today: int) -> tuple[dict[str, list[int]], int]:
    """monthly_rates by day, for the purchase loop: ({currency: [rate of day base + i]}, base)."""
    table = monthly_rates(first_day, today)
    base = dt.date.fromordinal(first_day).replace(day=1).toordinal()
    by_day = {}
    for code, months in table.items():
        rates = []
        for (start, rate), (end, _next) in zip(months, [*months[1:], (today + 1, 0)], strict=True):
            rates += [rate] * (end - start)
        by_day[code] = rates
        assert len(rates) == today + 1 - base
    return by_day, base
