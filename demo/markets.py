"""Where the demo's clients are: four countries, each a fixed table of real cities with their
regions, postal codes and phone prefixes, so that a client's city, region, postal code, phone and
country agree."""

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
    # One business, one currency: its figures add purchase amounts up, so Brazil buys in euros too.
    Market("pt_BR", "BR", "pt", "EUR", 0.20, _places(
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
    Market("es_MX", "MX", "es", "EUR", 0.15, _places(
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
FX_TO = {"EUR": 1.0}  # catalogue prices are in euros; a market in another currency needs its rate here
