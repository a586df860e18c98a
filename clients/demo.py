"""Demo data: a small office-supplies business with three years of history, built fast.

`demo_build()` writes users, teams, the catalogue and N clients with their purchases, lines,
interactions, follow-ups and contracts inside one transaction, then the lifecycle engine (passed
in by the command) fills every client's figures, status and classifications in one set-based run.

- Clients are generated in blocks of 10,000, each from its own `random.Random(f"{seed}:{block}")`
  plus Faker pools seeded from the seed: the same seed gives the same business, whether blocks
  are built in a thread of this process or in worker processes (`workers`).
- Faker is slow, so it only fills small pools (names, streets) that the generator samples from.
  Places come from a fixed table of real cities with their regions, postal codes and phone
  prefixes, so that a client's city, region, postal code, phone and country agree.
- PostgreSQL gets COPY, with the loaded tables' secondary indexes and foreign keys dropped and
  rebuilt around the load (`PostgresBulkLoad`); other databases get `bulk_create`. A background
  thread prepares block n+1 while the database writes block n.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import random
import threading
import time
import zoneinfo
from bisect import bisect
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from itertools import accumulate
from types import SimpleNamespace

import django
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import Role, Team, User
from accounts.services import user_create
from clients.models import (
    Category,
    Channel,
    Client,
    Contract,
    FollowUp,
    Interaction,
    PaymentMethod,
    Product,
    Purchase,
    PurchaseLine,
    Status,
)
from clients.text import fold

DEMO_PASSWORD = "cartera-demo"  # noqa: S105 - printed on purpose: these are demo logins
EMAIL_DOMAIN = "cartera.example"
HISTORY_DAYS = 3 * 365
BLOCK_CLIENTS = 10_000  # clients generated (and seeded) together
SPREAD_SIZE = 4_096

# ---------------------------------------------------------------------------------------------
# The business: staff, catalogue, places, vocabulary
# ---------------------------------------------------------------------------------------------

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

CATALOGUE = [
    ("Papelería y material de oficina", [
        ("Paquete de folios A4 80 g (500 hojas)", "4.95"),
        ("Caja de bolígrafos azules (50 uds.)", "12.50"),
        ("Archivadores de palanca A4 (10 uds.)", "18.90"),
        ("Cuadernos de espiral A4 (10 uds.)", "15.40"),
        ("Kit de organización de escritorio", "24.90"),
    ]),
    ("Consumibles de impresión", [
        ("Tóner negro láser de alta capacidad", "79.00"),
        ("Pack de cartuchos de tinta de color", "54.90"),
        ("Tambor de imagen para multifunción", "129.00"),
        ("Rollos de papel térmico (50 uds.)", "32.00"),
        ("Etiquetas adhesivas A4 (100 hojas)", "21.50"),
    ]),
    ("Mobiliario de oficina", [
        ("Silla ergonómica de oficina", "189.00"),
        ("Mesa de oficina 160 x 80 cm", "249.00"),
        ("Armario archivador metálico", "215.00"),
        ("Cajonera con ruedas", "119.00"),
        ("Mesa de reuniones para 6 personas", "540.00"),
    ]),
    ("Equipos informáticos", [
        ("Ordenador portátil profesional 14 pulgadas", "899.00"),
        ("Ordenador de sobremesa", "749.00"),
        ("Monitor 27 pulgadas QHD", "279.00"),
        ("Teclado y ratón inalámbricos", "49.90"),
        ("Sistema de alimentación ininterrumpida (SAI)", "159.00"),
    ]),
    ("Impresoras y multifunción", [
        ("Impresora láser monocromo", "219.00"),
        ("Multifunción láser color A4", "549.00"),
        ("Multifunción A3 departamental", "2450.00"),
        ("Escáner documental de alta velocidad", "699.00"),
        ("Destructora de papel de oficina", "189.00"),
    ]),
    ("Software y licencias", [
        ("Licencia anual de ofimática (por usuario)", "99.00"),
        ("Antivirus para empresas (por equipo)", "39.00"),
        ("Copia de seguridad en la nube (anual)", "180.00"),
        ("Programa de facturación y contabilidad", "349.00"),
        ("Certificado digital y firma electrónica", "65.00"),
    ]),
    ("Servicios técnicos", [
        ("Instalación y configuración de equipos", "120.00"),
        ("Hora de asistencia técnica in situ", "55.00"),
        ("Migración de datos", "290.00"),
        ("Formación en herramientas ofimáticas", "180.00"),
        ("Instalación de red y wifi", "450.00"),
    ]),
    ("Contratos de mantenimiento", [
        ("Mantenimiento de impresoras (anual)", "480.00"),
        ("Soporte informático mensual", "150.00"),
        ("Mantenimiento preventivo de equipos (anual)", "620.00"),
        ("Renting de multifunción (cuota mensual)", "95.00"),
        ("Plan de soporte premium (anual)", "1450.00"),
    ]),
]
# Quantities people order: consumables by the dozen, equipment one or two at a time.
BULK_CATEGORIES = {"Papelería y material de oficina", "Consumibles de impresión"}


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

SECTORS = [
    ("Hostelería", 12), ("Comercio minorista", 16), ("Construcción", 8), ("Salud", 9),
    ("Educación", 7), ("Despachos profesionales", 14), ("Industria", 8), ("Logística y transporte", 6),
    ("Tecnología", 7), ("Inmobiliaria", 5), ("Agroalimentario", 5), ("Administración pública", 3),
]
COMPANY_PATTERNS = {
    "es": {
        "Hostelería": ["Restaurante {surname}", "Hotel {city} Centro", "Cafetería {surname}", "Grupo Hostelero {surname}"],
        "Comercio minorista": ["Comercial {surname}", "Ferretería {surname}", "Tiendas {surname}", "Librería {surname}"],
        "Construcción": ["Construcciones {surname}", "Reformas {surname}", "Obras y Proyectos {city}"],
        "Salud": ["Clínica Dental {surname}", "Farmacia {surname}", "Centro Médico {city}", "Fisioterapia {surname}"],
        "Educación": ["Academia {surname}", "Colegio {surname}", "Autoescuela {city}"],
        "Despachos profesionales": ["{surname} Abogados", "Asesoría {surname}", "Gestoría {surname}", "{surname} y Asociados"],
        "Industria": ["Industrias {surname}", "Talleres {surname}", "Metalúrgica {city}"],
        "Logística y transporte": ["Transportes {surname}", "Logística {city}", "Mensajería {surname}"],
        "Tecnología": ["{surname} Software", "Soluciones Digitales {surname}", "Sistemas {city}"],
        "Inmobiliaria": ["Inmobiliaria {surname}", "Fincas {surname}", "Administración de Fincas {city}"],
        "Agroalimentario": ["Bodegas {surname}", "Frutas {surname}", "Cooperativa Agrícola de {city}"],
        "Administración pública": ["Ayuntamiento de {city}", "Consorcio de Servicios de {city}"],
    },
    "pt": {
        "Hostelería": ["Restaurante {surname}", "Hotel {city} Centro", "Pastelaria {surname}", "Churrascaria {surname}"],
        "Comercio minorista": ["Comercial {surname}", "Loja {surname}", "Papelaria {surname}", "Mercearia {surname}"],
        "Construcción": ["Construções {surname}", "Obras e Reformas {surname}", "Engenharia {city}"],
        "Salud": ["Clínica Dentária {surname}", "Farmácia {surname}", "Centro Médico {city}", "Fisioterapia {surname}"],
        "Educación": ["Colégio {surname}", "Escola de Línguas {surname}", "Centro de Explicações {city}"],
        "Despachos profesionales": ["{surname} Advogados", "Contabilidade {surname}", "{surname} & Associados"],
        "Industria": ["Indústrias {surname}", "Metalúrgica {city}", "Têxteis {surname}"],
        "Logística y transporte": ["Transportes {surname}", "Logística {city}", "Expresso {surname}"],
        "Tecnología": ["{surname} Tecnologia", "Soluções Digitais {surname}", "Sistemas {city}"],
        "Inmobiliaria": ["Imobiliária {surname}", "Condomínios {city}"],
        "Agroalimentario": ["Adega {surname}", "Quinta {surname}", "Cooperativa Agrícola de {city}"],
        "Administración pública": ["Câmara Municipal de {city}", "Serviços Municipalizados de {city}"],
    },
}
PUBLIC_SECTOR = "Administración pública"
HOBBIES = {
    "es": ["pádel", "ciclismo", "fútbol", "lectura", "cocina", "senderismo", "fotografía", "golf", "viajes",
           "música", "running", "pesca", "jardinería", "ajedrez"],
    "pt": ["futebol", "surf", "ciclismo", "leitura", "culinária", "caminhadas", "fotografia", "viagens",
           "música", "corrida", "pesca", "jardinagem", "vôlei de praia"],
}
CONTACT_HOURS = {
    "es": ["Mañanas (9:00-14:00)", "Tardes (16:00-19:00)", "De 10:00 a 13:00", "Solo martes y jueves",
           "Después de las 17:00", "Cualquier hora laborable"],
    "pt": ["Manhãs (9h-12h)", "Tardes (14h-18h)", "Das 10h às 13h", "Só às terças e quintas",
           "Depois das 17h", "Horário comercial"],
}
CLIENT_NOTES = [
    "Cliente fiel; prefiere que le visiten a final de mes.",
    "Paga siempre por transferencia a 30 días; pide factura electrónica.",
    "Muy sensible al precio: compara cada presupuesto con tiendas online.",
    "Valora la rapidez en la entrega más que el precio.",
    "Decide la compra el gerente; la administrativa prepara los pedidos.",
    "Tuvo una incidencia con un tóner defectuoso en el pasado; se resolvió bien.",
    "Interesado en renovar el parque de impresoras el año que viene.",
    "Compra sobre todo en campaña de vuelta al cole y a final de año.",
]
INTERACTIONS = {
    Interaction.Kind.CALL: [
        ("Llamada para revisar el consumo de {category}; el último pedido llegó bien.", ["info", "interested"]),
        ("Presento por teléfono la nueva gama de {category}; pide que le enviemos precios.", ["interested", "offer_sent"]),
        ("Llamada de seguimiento del presupuesto de {product}; lo está valorando con su socio.", ["call_back", "interested"]),
        ("No contesta; dejo mensaje en el buzón de voz.", ["no_answer"]),
        ("Consulta el plazo de entrega de {product}.", ["info", "sale"]),
        ("Pregunta por condiciones de pago a 60 días para el próximo pedido.", ["info", "call_back"]),
        ("Llamada de reactivación: hace tiempo que no compra; ofrezco un descuento en {category}.", ["interested", "not_interested", "call_back"]),
    ],
    Interaction.Kind.EMAIL: [
        ("Envío presupuesto de {product} con descuento por volumen.", ["offer_sent"]),
        ("Responde al correo de la campaña: le interesa {category}.", ["interested"]),
        ("Envío el catálogo actualizado de {category} y las tarifas del año.", ["info", "offer_sent"]),
        ("Reclama por un retraso en la entrega; le ofrecemos envío urgente sin coste.", ["info"]),
        ("Pide la factura duplicada del último pedido.", ["info"]),
    ],
    Interaction.Kind.VISIT: [
        ("Visita a sus instalaciones: revisamos el parque de impresoras y hay dos equipos antiguos.", ["interested", "offer_sent"]),
        ("Visita comercial; presento {product} y dejo muestras.", ["interested", "call_back"]),
        ("Visita para planificar la renovación de {category}.", ["offer_sent", "sale"]),
        ("Visita de cortesía; sin necesidades por ahora.", ["not_interested", "info"]),
    ],
    Interaction.Kind.MEETING: [
        ("Reunión con gerencia para revisar el contrato de mantenimiento.", ["offer_sent", "sale", "interested"]),
        ("Reunión para presentar una propuesta de renting de equipos.", ["offer_sent", "interested"]),
    ],
    Interaction.Kind.WHATSAPP: [
        ("Me escribe por WhatsApp para pedir {product} para mañana.", ["sale"]),
        ("Confirma por WhatsApp que ha recibido el pedido.", ["info"]),
        ("Pregunta por WhatsApp si tenemos stock de {product}.", ["interested", "info"]),
    ],
    Interaction.Kind.NOTE: [
        ("Nota interna: comparar siempre con las tarifas de la competencia antes de ofertar.", ["info"]),
        ("Nota interna: cambia la persona de compras a partir del mes que viene.", ["info"]),
    ],
    Interaction.Kind.SURVEY: [
        ("Encuesta de satisfacción: valora bien la atención; mejorable el plazo de entrega.", ["info"]),
        ("Encuesta de satisfacción: muy contento con el servicio técnico.", ["info"]),
    ],
}
INTERACTION_KIND_WEIGHTS = [
    (Interaction.Kind.CALL, 40), (Interaction.Kind.EMAIL, 24), (Interaction.Kind.VISIT, 14),
    (Interaction.Kind.MEETING, 5), (Interaction.Kind.WHATSAPP, 10), (Interaction.Kind.NOTE, 4),
    (Interaction.Kind.SURVEY, 3),
]
NEEDS = [
    "Necesita renovar los equipos antes de fin de año.",
    "Busca reducir el gasto en impresión.",
    "Quiere un único proveedor para material y mantenimiento.",
    "Duda entre comprar o hacer renting.",
    "Necesita entregas semanales en dos sedes.",
]
OBJECTIONS = [
    "Considera el precio alto comparado con internet.",
    "Tuvo una mala experiencia con un técnico.",
    "Prefiere esperar al próximo trimestre.",
    "El plazo de entrega le parece largo.",
]
COMPETITORS = [
    "Compara con los precios de una tienda online.",
    "Tiene una oferta de un distribuidor local.",
    "Le ofrecen renting más barato en otra empresa.",
    "Compra el papel en una gran superficie.",
]
FOLLOWUP_NOTES = [
    "Llamar para confirmar el pedido de {product}.",
    "Llevar muestras de {category}.",
    "Enviar presupuesto de renovación.",
    "Visitar para revisar el contrato.",
    "Dejar la encuesta de satisfacción.",
    "Preguntar si le llegó el catálogo de {category}.",
]
FOLLOWUP_KIND_WEIGHTS = [
    (FollowUp.Kind.CALL, 40), (FollowUp.Kind.VISIT, 20), (FollowUp.Kind.EMAIL, 15),
    (FollowUp.Kind.SAMPLES, 8), (FollowUp.Kind.SURVEY, 5), (FollowUp.Kind.MEETING, 12),
]
CONTRACT_TITLES = [
    "Mantenimiento de impresoras", "Renting de equipos multifunción", "Soporte informático",
    "Suministro anual de material de oficina", "Mantenimiento preventivo de equipos", "Plan de soporte premium",
]
PURCHASE_NOTES = ["Pedido urgente", "Entrega en tienda", "Recoge el cliente", "Pedido por la web", "Factura a 30 días"]

# Buying rhythms (share of clients)
FREQUENT, HABITUAL, ONE_OFF, LAPSED, NEVER = "frequent", "habitual", "one_off", "lapsed", "never"
RHYTHMS = [(FREQUENT, 20), (HABITUAL, 30), (ONE_OFF, 25), (LAPSED, 10), (NEVER, 15)]
# Basket in euro cents by economic level; companies buy about three times more.
BASKET_CENTS = {"low": 3_500, "medium": 8_000, "high": 18_000, "very_high": 40_000}


class Weighted:
    """A weighted choice that costs one random() and one bisect (rng.choices is slower)."""

    def __init__(self, pairs: Sequence[tuple[object, float]]):
        self.items = [item.value if isinstance(item, Enum) else item for item, _ in pairs]
        self.cum = list(accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


# ---------------------------------------------------------------------------------------------
# Generation: rows as plain values, identical for every database
# ---------------------------------------------------------------------------------------------


@dataclass
class Batch:
    clients: list[dict] = field(default_factory=list)
    interests: list[tuple[int, int]] = field(default_factory=list)
    # (id, client_id, day ordinal, amount cents, currency, payment, channel, notes, created_by_id, minute)
    purchases: list[tuple] = field(default_factory=list)
    # (purchase_id, product_id, quantity, unit price cents)
    lines: list[tuple[int, int, int, int]] = field(default_factory=list)
    interactions: list[dict] = field(default_factory=list)
    followups: list[dict] = field(default_factory=list)
    contracts: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Staff:
    id: int
    language: str  # "es" / "pt"
    manager_id: int


@dataclass
class Tally:
    clients: int = 0
    purchases: int = 0
    lines: int = 0
    interactions: int = 0
    followups: int = 0
    contracts: int = 0

    def add(self, other: Tally) -> None:
        for name in ("clients", "purchases", "lines", "interactions", "followups", "contracts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class DemoError(Exception):
    """A reason not to build the demo, for the command to report."""


def faker_class():
    try:
        from faker import Faker
    except ImportError as exc:  # listed in requirements-dev.txt only
        raise DemoError("The demo data needs Faker: pip install -r requirements-dev.txt") from exc
    return Faker


class Pools:
    """Names and streets per market, drawn once from Faker."""

    SIZE = 2_000

    def __init__(self, seed: int, size: int = SIZE):
        Faker = faker_class()
        self.by_locale: dict[str, SimpleNamespace] = {}
        for index, market in enumerate(MARKETS):
            fake = Faker(market.locale)
            fake.seed_instance(seed * 101 + index)
            self.by_locale[market.locale] = SimpleNamespace(
                male=_distinct(fake.first_name_male, size),
                female=_distinct(fake.first_name_female, size),
                surnames=_distinct(fake.last_name, size),
                streets=[fake.street_address() for _ in range(size)],
            )


def _distinct(make: Callable[[], str], size: int) -> list[str]:
    """Faker's name lists are short: sample until no new name comes, in first-seen order."""
    seen: dict[str, None] = {}
    misses = 0
    while len(seen) < size and misses < 200:
        value = make()
        if value in seen:
            misses += 1
        else:
            seen[value] = None
    return list(seen)


@dataclass(frozen=True)
class Setup:
    """Everything a generator needs; picklable, so that worker processes can build their own."""

    seed: int
    now: dt.datetime
    time_zone: str
    staff: tuple[Staff, ...]
    categories: tuple[tuple[int, str, tuple[tuple[int, str, int], ...]], ...]  # (id, name, products)


class Clock:
    """Days as ordinals and minutes of the day, turned into aware datetimes never later than now."""

    def __init__(self, now: dt.datetime, time_zone: str):
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.now = now
        local_now = now.astimezone(self.tz)
        self.today = local_now.date().toordinal()
        self.now_minute = local_now.hour * 60 + local_now.minute

    def at(self, day: int, minute: int) -> dt.datetime:
        if day >= self.today:
            day, minute = self.today, min(minute, self.now_minute)
        return self.future_at(day, minute)

    def future_at(self, day: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(dt.date.fromordinal(day), dt.time(minute // 60, minute % 60), tzinfo=self.tz)


class Generator:
    """Rows for one block of clients, from a random stream of its own (the seed and the block number).

    Ids in a block start at 0 (clients, purchases, interactions); the writer shifts them. So blocks
    are independent: worker processes can build them in any order and the data stays the same.
    """

    def __init__(self, setup: Setup):
        shared = random.Random(setup.seed)  # what all blocks share
        self.seed = setup.seed
        self.pools = Pools(setup.seed)
        self.clock = Clock(setup.now, setup.time_zone)
        self.today = self.clock.today
        self.first_day = self.today - HISTORY_DAYS + 1
        self.now = setup.now
        self.now_minute = self.clock.now_minute
        self.at = self.clock.at
        self.future_at = self.clock.future_at
        staff, categories = setup.staff, setup.categories
        # Some portfolios are bigger than others; clients mostly go to someone who speaks their language.
        weights = [(person, 0.7 + shared.random() * 0.6) for person in staff]
        self.owner_any = Weighted(weights)
        self.owner_by_language = {
            language: Weighted([(p, w) for p, w in weights if p.language == language])
            for language in sorted({person.language for person in staff})
        }
        self.categories = categories  # (id, name, [(product id, name, price cents)])
        self.category_ids = [category_id for category_id, _, _ in categories]
        self.category_names = {category_id: name for category_id, name, _ in categories}
        self.slugs: dict[str, str] = {}
        self.products = [product for _, _, products in categories for product in products]
        self.products_by_category = {category_id: products for category_id, _, products in categories}
        # Basket spread around each client's typical amount (lognormal), drawn once: cheaper per purchase.
        self.spread = [shared.lognormvariate(0, 0.5) for _ in range(SPREAD_SIZE)]
        self.bulk_products = {p[0] for _, name, ps in categories if name in BULK_CATEGORIES for p in ps}
        self.markets = Weighted([(market, market.weight) for market in MARKETS])
        self.places = {m.locale: Weighted([(p, p.weight) for p in m.places]) for m in MARKETS}
        self.sectors = Weighted(SECTORS)
        self.rhythms = Weighted(RHYTHMS)
        self.levels_person = Weighted([("low", 25), ("medium", 45), ("high", 22), ("very_high", 8)])
        self.levels_company = Weighted([("low", 8), ("medium", 37), ("high", 35), ("very_high", 20)])
        self.sources = Weighted([
            (Client.Source.REFERRAL, 22), (Client.Source.WEB, 20), (Client.Source.CAMPAIGN, 15),
            (Client.Source.WALK_IN, 15), (Client.Source.NETWORKING, 12), (Client.Source.EVENT, 10),
            (Client.Source.OTHER, 6),
        ])
        self.channels = {
            "es": Weighted([(Channel.PHONE, 40), (Channel.EMAIL, 30), (Channel.VISIT, 15), (Channel.WHATSAPP, 15)]),
            "pt": Weighted([(Channel.PHONE, 25), (Channel.EMAIL, 25), (Channel.VISIT, 10), (Channel.WHATSAPP, 40)]),
        }
        self.pay_person = Weighted([(PaymentMethod.CARD, 55), (PaymentMethod.CASH, 20), (PaymentMethod.TRANSFER, 15),
                                    (PaymentMethod.FINANCING, 5), (PaymentMethod.OTHER, 5)])
        self.pay_company = Weighted([(PaymentMethod.TRANSFER, 50), (PaymentMethod.DIRECT_DEBIT, 30),
                                     (PaymentMethod.CARD, 15), (PaymentMethod.FINANCING, 5)])
        self.sales_person = Weighted([(Purchase.SalesChannel.STORE, 45), (Purchase.SalesChannel.WEB, 25),
                                      (Purchase.SalesChannel.PHONE, 20), (Purchase.SalesChannel.VISIT, 10)])
        self.sales_company = Weighted([(Purchase.SalesChannel.VISIT, 30), (Purchase.SalesChannel.PHONE, 25),
                                       (Purchase.SalesChannel.EMAIL, 20), (Purchase.SalesChannel.WEB, 20),
                                       (Purchase.SalesChannel.STORE, 5)])
        self.interaction_kinds = Weighted(INTERACTION_KIND_WEIGHTS)
        self.followup_kinds = Weighted(FOLLOWUP_KIND_WEIGHTS)
        self.temperatures = Weighted([(Client.Temperature.HOT, 2), (Client.Temperature.WARM, 4),
                                      (Client.Temperature.COLD, 4)])
        self.close_reasons = Client.CloseReason.values
        self.qualifications = Client.Qualification.values
        self.marital = Weighted([(Client.MaritalStatus.MARRIED, 45), (Client.MaritalStatus.SINGLE, 30),
                                 (Client.MaritalStatus.PARTNER, 12), (Client.MaritalStatus.DIVORCED, 9),
                                 (Client.MaritalStatus.WIDOWED, 4)])

    # -- helpers ------------------------------------------------------------------------------

    def one(self, items: Sequence):
        """rng.choice, without its rejection sampling: this runs tens of millions of times."""
        return items[int(self.rand() * len(items))]

    def below(self, start: int, stop: int | None = None) -> int:
        """rng.randrange(start[, stop]), the fast way (see `one`)."""
        if stop is None:
            return int(self.rand() * start)
        return start + int(self.rand() * (stop - start))

    def _take_id(self, name: str) -> int:
        value = self.next_id[name]
        self.next_id[name] = value + 1
        return value

    def digits(self, count: int) -> str:
        return str(self.below(10**count)).zfill(count)

    # -- one batch ----------------------------------------------------------------------------

    def block(self, number: int, start: int, count: int) -> Batch:
        """Clients start … start + count - 1 (block `number`), with everything hanging from them."""
        self.rng = random.Random(f"{self.seed}:{number}")
        self.rand = self.rng.random
        self.next_id = {"client": 0, "purchase": 0, "interaction": 0}
        batch = Batch()
        for index in range(start, start + count):
            self.client(index, batch)
        return batch

    def client(self, index: int, batch: Batch) -> None:
        r = self.rng
        market: Market = self.markets.pick(r)
        pool = self.pools.by_locale[market.locale]
        language = market.language
        place: Place = self.places[market.locale].pick(r)
        client_id = self._take_id("client")
        is_company = r.random() < 0.3
        female = r.random() < 0.5
        first_name = self.one(pool.female if female else pool.male)
        surname = self.one(pool.surnames)
        last_name = f"{surname} {self.one(pool.surnames)}" if r.random() < 0.65 else surname
        sector = self.sectors.pick(r)
        company_name = brand = ""
        if is_company:
            pattern = self.one(COMPANY_PATTERNS[language][sector])
            company_name = brand = pattern.format(surname=self.one(pool.surnames), city=place.city)
            if sector != PUBLIC_SECTOR and "{surname}" in pattern:
                company_name = f"{brand} {self.one(market.company_suffixes)}"
            if r.random() < 0.15:  # a company recorded without a contact person
                first_name = last_name = ""
        level = (self.levels_company if is_company else self.levels_person).pick(r)
        rhythm = self.rhythms.pick(r)
        owner: Staff = self._owner(language)

        days = self._purchase_days(rhythm)
        last_day = days[-1] if days else None
        first_day = days[0] if days else None
        closed_at = close_reason = None
        if rhythm == LAPSED and r.random() < 0.15:
            closed_at = min(self.today, last_day + 30 + self.below(120))
            close_reason = self.one(self.close_reasons)
        elif rhythm == NEVER and r.random() < 0.05:
            closed_at = self.today - self.below(1, 300)
            close_reason = self.one([Client.CloseReason.NO_NEED, Client.CloseReason.PRICE, Client.CloseReason.OTHER])

        # The record starts a little before anything happened with the client.
        known_since = (first_day if first_day is not None else self.today - self.below(HISTORY_DAYS)) - self.below(45)
        known_since = max(known_since, self.first_day - 60)
        if closed_at is not None:
            known_since = min(known_since, closed_at - 30)
        created_at = self.at(known_since, 540 + self.below(600))

        email = self._email(first_name, last_name, brand, market) if r.random() < 0.85 else ""
        phone = self._phone(market, place) if r.random() < 0.92 else ""
        values = {
            "id": client_id,
            "first_name": first_name,
            "last_name": last_name,
            "company_name": company_name,
            "client_ref": f"ERP-{index + 1:06d}" if r.random() < 0.10 else "",
            "tax_id": self._tax_id(market, is_company) if is_company or r.random() < 0.2 else "",
            "email": email,
            "phone": phone,
            "address": self.one(pool.streets),
            "city": place.city,
            "region": place.region,
            "postal_code": self._postal_code(market, place),
            "country": market.country,
            "preferred_channel": self.channels[language].pick(r) if r.random() < 0.8 else "",
            "contact_hours": self.one(CONTACT_HOURS[language]) if r.random() < 0.4 else "",
            "sector": sector,
            "marital_status": self.marital.pick(r) if not is_company and r.random() < 0.7 else "",
            "birth_date": (dt.date.fromordinal(self.today - 365 * 22 - self.below(365 * 53))
                           if not is_company and r.random() < 0.7 else None),
            "economic_level": level,
            "hobbies": ", ".join(r.sample(HOBBIES[language], self.below(1, 3))) if not is_company and r.random() < 0.4 else "",
            "notes": self.one(CLIENT_NOTES) if r.random() < 0.3 else "",
            "source": self.sources.pick(r),
            "buys_on_own_initiative": (r.random() < 0.6) if days and r.random() < 0.7 else None,
            "payment_method": (self.pay_company if is_company else self.pay_person).pick(r) if days else "",
            "prospect_qualification": "",
            "temperature": "",
            "closed_at": dt.date.fromordinal(closed_at) if closed_at else None,
            "close_reason": close_reason or "",
            "owner_id": owner.id,
            "created_at": created_at,
            "updated_at": self.now,
        }
        if not days and not closed_at and r.random() < 0.9:
            values["prospect_qualification"] = self.one(self.qualifications)
            values["temperature"] = self.temperatures.pick(r)
        stand_in = SimpleNamespace(**values)
        Client.refresh_search_fields(stand_in)  # the same keys Client.save() writes
        values.update(search_text=stand_in.search_text, phone_key=stand_in.phone_key, tax_key=stand_in.tax_key, email=stand_in.email)
        batch.clients.append(values)

        interests = r.sample(self.category_ids, min(len(self.category_ids), self.below(1, 4))) if r.random() < 0.85 else []
        batch.interests.extend((client_id, category_id) for category_id in interests)
        context = _Context(client_id, owner, market, is_company, level, interests, values["payment_method"], days,
                           closed_at, known_since, rhythm, values["temperature"])
        self._purchases(context, batch)
        self._interactions(context, batch)
        self._contracts(context, batch)

    def _owner(self, language: str) -> Staff:
        pick = self.owner_by_language.get(language)
        if pick is not None and self.rng.random() < 0.8:
            return pick.pick(self.rng)
        return self.owner_any.pick(self.rng)

    def _purchase_days(self, rhythm: str) -> list[int]:
        r = self.rng
        if rhythm == NEVER:
            return []
        if rhythm == ONE_OFF:
            return [self.first_day + self.below(HISTORY_DAYS)]
        if rhythm == FREQUENT:  # every 1-4 weeks
            gap, end = 7 + 21 * r.random() ** 0.5, self.today
            start = self.first_day + int(r.random() * (HISTORY_DAYS - 7))
        elif rhythm == HABITUAL:  # every 1-3 months
            gap, end = 30 + 60 * r.random() ** 0.5, self.today
            start = self.first_day + int(r.random() * (HISTORY_DAYS - 30))
        else:  # lapsed: bought for a while, stopped 4-18 months ago
            gap, end = 14 + r.random() * 60, self.today - 120 - self.below(420)
            start = max(self.first_day, end - 60 - self.below(640))
        days = []
        day = start
        while day <= end:
            days.append(day)
            day += max(1, int(gap * (0.5 + r.random())))
        return days

    def _purchases(self, c: _Context, batch: Batch) -> None:
        # The hottest loop (ten purchases per client): locals only, one random() per decision.
        rand, one = self.rand, self.one
        fx = FX_TO[c.market.currency]
        basket = BASKET_CENTS[c.level] * (3 if c.is_company else 1) * fx * (0.6 + rand() * 0.8)
        channels = self.sales_company if c.is_company else self.sales_person
        payments = self.pay_company if c.is_company else self.pay_person
        products, bulk, spread = self.products, self.bulk_products, self.spread
        favourites = [p for cid in c.interests for p in self.products_by_category[cid]] or products
        today, now_minute, currency, payment = self.today, self.now_minute, c.market.currency, c.payment
        client_id, owner_id = c.client_id, c.owner.id
        add_purchase, add_line = batch.purchases.append, batch.lines.append
        usual_channel = channels.pick(self.rng)  # people mostly buy the same way
        purchase_id = self.next_id["purchase"]
        for day in c.days:
            for _ in range(2 if rand() < 0.07 else 1):  # several purchases on one day, sometimes
                minute = 540 + int(rand() * 660)
                if day == today and minute > now_minute:
                    minute = now_minute
                if rand() < 0.2:  # itemised: the amount is the sum of its lines
                    cents = 0
                    for _ in range(1 + int(rand() * 3)):
                        product_id, _, price = one(favourites) if rand() < 0.7 else one(products)
                        quantity = 1 + int(rand() * (12 if product_id in bulk else 2))
                        unit = int(price * fx * (0.85 + rand() * 0.15))
                        add_line((purchase_id, product_id, quantity, unit))
                        cents += quantity * unit
                else:
                    cents = int(basket * spread[int(rand() * SPREAD_SIZE)])
                channel = usual_channel if rand() < 0.75 else channels.pick(self.rng)
                add_purchase((
                    purchase_id, client_id, day, cents, currency,
                    payment if rand() < 0.8 else payments.pick(self.rng), channel,
                    one(PURCHASE_NOTES) if rand() < 0.03 else "",
                    None if channel == "web" or rand() < 0.3 else owner_id, minute,
                ))
                purchase_id += 1
        self.next_id["purchase"] = purchase_id

    def _interactions(self, c: _Context, batch: Batch) -> None:
        r = self.rng
        if c.rhythm == FREQUENT:
            count = self.below(1, 7)
        elif c.rhythm in (HABITUAL, NEVER):
            count = self.below(0, 5)
        else:
            count = self.below(0, 3)
        begin = max(c.known_since, self.first_day)
        end = c.closed_at or self.today
        product = self.products[self.below(len(self.products))][1]
        category = self._category_name(c.interests)
        last_when = None
        for _ in range(count):
            # Recent contact is denser than old contact.
            span = end - begin
            day = end - int(span * r.random() ** 2) if span > 0 else end
            kind = self.interaction_kinds.pick(r)
            text, outcomes = self.one(INTERACTIONS[kind])
            outcome = self.one(outcomes)
            when = self.at(day, 540 + int(r.random() * 600))
            interaction_id = self._take_id("interaction")
            user_id = c.owner.manager_id if r.random() < 0.1 else c.owner.id
            batch.interactions.append({
                "id": interaction_id, "client_id": c.client_id, "kind": kind,
                "direction": Interaction.Direction.INBOUND if r.random() < 0.25 else Interaction.Direction.OUTBOUND,
                "happened_at": when, "user_id": user_id,
                "summary": text.format(product=product, category=category.lower()),
                "outcome": outcome,
                "needs": self.one(NEEDS) if r.random() < 0.2 else "",
                "objections": self.one(OBJECTIONS) if r.random() < 0.15 else "",
                "competitor_notes": self.one(COMPETITORS) if r.random() < 0.1 else "",
                "awaiting_reply": (outcome in ("offer_sent", "interested") and self.today - day <= 21 and r.random() < 0.6),
            })
            if last_when is None or when > last_when:
                last_when = when
            # A planned action that this interaction carried out.
            if kind in (Interaction.Kind.CALL, Interaction.Kind.VISIT, Interaction.Kind.MEETING) and r.random() < 0.35:
                due = when - dt.timedelta(hours=self.below(0, 48))
                batch.followups.append({
                    "client_id": c.client_id, "kind": kind, "due_at": due, "assigned_to_id": user_id,
                    "status": FollowUp.State.DONE, "notes": "", "closed_by_id": interaction_id,
                    "completed_at": when, "created_by_id": user_id,
                    "created_at": due - dt.timedelta(days=self.below(1, 15)),
                })
        self._pending_followup(c, batch, product, category, last_when)

    def _pending_followup(self, c: _Context, batch: Batch, product: str, category: str, last_when) -> None:
        r = self.rng
        if c.closed_at:
            return
        if c.rhythm == NEVER:
            chance = {"hot": 0.8, "warm": 0.45}.get(c.temperature, 0.1)
        elif c.rhythm in (FREQUENT, HABITUAL):
            chance = 0.35
        else:
            chance = 0.12
        if r.random() < 0.03:
            cancelled_day = self.today - self.below(1, 120)
            batch.followups.append(self._followup(c, cancelled_day, FollowUp.State.CANCELLED, product, category))
        if r.random() >= chance:
            return
        bucket = r.random()
        if bucket < 0.3:
            day = self.today - self.below(1, 21)  # overdue
        elif bucket < 0.5:
            day = self.today  # today
        elif bucket < 0.85:
            day = self.today + self.below(1, 8)  # this week
        else:
            day = self.today + self.below(8, 31)
        batch.followups.append(self._followup(c, day, FollowUp.State.PENDING, product, category, last_when))

    def _followup(self, c: _Context, day: int, state: str, product: str, category: str, scheduled_at=None) -> dict:
        r = self.rng
        due = self.future_at(day, 540 + 30 * self.below(20))
        created = scheduled_at or self.at(min(day, self.today) - self.below(1, 20), 540 + self.below(600))
        if created > due:
            created = due - dt.timedelta(days=1)
        return {
            "client_id": c.client_id, "kind": self.followup_kinds.pick(r), "due_at": due,
            "assigned_to_id": c.owner.id, "status": state,
            "notes": self.one(FOLLOWUP_NOTES).format(product=product, category=category.lower()),
            "closed_by_id": None, "completed_at": None, "created_by_id": c.owner.id, "created_at": created,
        }

    def _contracts(self, c: _Context, batch: Batch) -> None:
        r = self.rng
        if c.rhythm not in (FREQUENT, HABITUAL) or r.random() >= (0.45 if c.is_company else 0.2):
            return
        fx = FX_TO[c.market.currency]
        value = int(BASKET_CENTS[c.level] * fx * (4 + r.random() * 20)) / 100
        title = self.one(CONTRACT_TITLES)
        bucket = r.random()
        if bucket < 0.3:
            end = self.today + self.below(0, 31)  # the renewal portfolio
            renewal = Contract.Renewal.PENDING if r.random() < 0.75 else Contract.Renewal.IN_NEGOTIATION
        elif bucket < 0.8:
            end = self.today + self.below(31, 330)
            renewal = Contract.Renewal.PENDING
        else:  # ended: renewed into a current one, or let go
            end = self.today - self.below(1, 300)
            renewal = Contract.Renewal.RENEWED if r.random() < 0.6 else Contract.Renewal.NOT_RENEWING
            if renewal == Contract.Renewal.RENEWED:
                batch.contracts.append(self._contract(c, title, end + 1, end + 365, value, Contract.Renewal.PENDING))
        batch.contracts.append(self._contract(c, title, end - 364, end, value, renewal))

    def _contract(self, c: _Context, title: str, start: int, end: int, value: float, renewal: str) -> dict:
        start_date = dt.date.fromordinal(start)
        return {
            "client_id": c.client_id, "title": f"{title} {start_date.year}", "start_date": start_date,
            "end_date": dt.date.fromordinal(end), "value": Decimal(f"{value:.2f}"), "renewal_status": renewal,
            "notes": "",
        }

    def _category_name(self, interests: list[int]) -> str:
        return self.category_names[interests[0] if interests else self.category_ids[0]]

    # -- identity -----------------------------------------------------------------------------

    def _slug(self, text: str) -> str:
        """'Peña Álvarez' -> 'penaalvarez', remembered: names repeat a lot."""
        slug = self.slugs.get(text)
        if slug is None:
            slug = self.slugs[text] = "".join(ch for ch in fold(text) if ch.isascii() and ch.isalnum())
        return slug

    def _email(self, first: str, last: str, brand: str, market: Market) -> str:
        # Reserved .example domains: a demo must never e-mail real people.
        if brand:
            box = self.one(["info", "pedidos", "administracion", "compras"] if market.language == "es"
                           else ["geral", "compras", "financeiro", "contato"])
            return f"{box}@{self._slug(brand)[:24] or 'empresa'}.example"
        local = ".".join(self._slug(part) for part in (first, last.split(" ")[0]) if part) or "cliente"
        provider = self.one(["correo", "mail", "buzon"] if market.language == "es" else ["correio", "mail", "caixa"])
        suffix = str(self.below(10, 99)) if self.rand() < 0.4 else ""
        return f"{local}{suffix}@{provider}.example"

    def _phone(self, market: Market, place: Place) -> str:
        r, d = self.rng, self.digits
        mobile = r.random() < 0.7
        if market.country == "ES":
            head = self.one("67") if mobile else "9"
            number = f"{head}{d(2)} {d(3)} {d(3)}"
            return number if r.random() < 0.3 else f"+34 {number}"
        if market.country == "PT":
            head = self.one(["91", "92", "93", "96"]) if mobile else "2" + d(1)
            return f"+351 {head}{d(1)} {d(3)} {d(3)}"
        if market.country == "BR":
            body = f"9{d(4)}-{d(4)}" if mobile else f"{self.below(2, 6)}{d(3)}-{d(4)}"
            return f"+55 ({place.phone_area}) {body}"
        rest = d(10 - len(place.phone_area))
        return f"+52 {place.phone_area} {rest[:-4]} {rest[-4:]}"

    def _postal_code(self, market: Market, place: Place) -> str:
        number = self.below(place.postal_from, place.postal_to + 1)
        if market.country == "PT":
            return f"{number:04d}-{self.digits(3)}"
        if market.country == "BR":
            return f"{number:05d}-{self.digits(3)}"
        return f"{number:05d}"

    def _tax_id(self, market: Market, is_company: bool) -> str:
        d = self.digits
        if market.country == "ES":
            if is_company:
                letter, body = self.one("BBBA"), d(7)
                return f"{letter}{body}{_cif_control(body)}"
            number = self.below(10**7, 10**8)
            return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"
        if market.country == "PT":
            body = ("5" if is_company else self.one("12")) + d(7)
            return body + _pt_nif_control(body)
        if market.country == "BR":
            if is_company:
                base = [int(ch) for ch in d(8) + "0001"]
                base.append(_br_check(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
                base.append(_br_check(base, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
                s = "".join(map(str, base))
                return f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"
            base = [int(ch) for ch in d(9)]
            base.append(_br_check(base, list(range(10, 1, -1))))
            base.append(_br_check(base, list(range(11, 1, -1))))
            s = "".join(map(str, base))
            return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"
        letters = "".join(self.one("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3 if is_company else 4))
        born = dt.date.fromordinal(self.today - self.below(365 * 18, 365 * 60))
        tail = "".join(self.one("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(3))
        return f"{letters}{born:%y%m%d}{tail}"


@dataclass
class _Context:
    client_id: int
    owner: Staff
    market: Market
    is_company: bool
    level: str
    interests: list[int]
    payment: str
    days: list[int]
    closed_at: int | None
    known_since: int
    rhythm: str
    temperature: str


def _cif_control(body: str) -> str:
    even = sum(int(ch) for ch in body[1::2])
    odd = sum(sum(divmod(int(ch) * 2, 10)) for ch in body[0::2])
    return str((10 - (even + odd) % 10) % 10)


def _pt_nif_control(body: str) -> str:
    remainder = 11 - sum(int(ch) * (9 - i) for i, ch in enumerate(body)) % 11
    return "0" if remainder >= 10 else str(remainder)


def _br_check(digits: list[int], weights: list[int]) -> int:
    remainder = sum(a * b for a, b in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


# ---------------------------------------------------------------------------------------------
# Writing: COPY on PostgreSQL, bulk_create elsewhere
# ---------------------------------------------------------------------------------------------

def _copy_str(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


_COPY_TEXT = {
    str: _copy_str,
    int: str,
    bool: lambda v: "t" if v else "f",
    type(None): lambda v: "\\N",
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,  # keeps the UTC offset
    Decimal: str,
}


def _copy_value(value) -> str:
    """One value in COPY's text format."""
    encode = _COPY_TEXT.get(type(value))
    if encode is not None:
        return encode(value)
    if isinstance(value, str):  # a choices member
        return _copy_str(str.__str__(value))
    return str(value)


def _missing_default(model_field: models.Field, now: dt.datetime):
    if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
        return now
    return model_field.get_default()


class _CopyTable:
    """COPY … FROM STDIN for one model: given columns first, every other column at its default."""

    def __init__(self, model: type[models.Model], given: Sequence[str], now: dt.datetime, quote: Callable[[str], str]):
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for f in model._meta.concrete_fields if f.attname not in given and not f.primary_key]
        self.given = list(given)
        self.suffix = "".join("\t" + _copy_value(_missing_default(f, now)) for f in rest)
        columns = [by_attname[name].column for name in given] + [f.column for f in rest]
        self.sql = f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"

    def dict_lines(self, rows: Sequence[dict]) -> list[str]:
        given, suffix, value = self.given, self.suffix, _copy_value
        return ["\t".join([value(row[name]) for name in given]) + suffix + "\n" for row in rows]


@dataclass
class Bases:
    """The first real id of the next block's clients, purchases and interactions."""

    client: int
    purchase: int
    interaction: int

    def advance(self, batch: Batch) -> None:
        self.client += len(batch.clients)
        self.purchase += len(batch.purchases)
        self.interaction += len(batch.interactions)


def _rebase_rows(batch: Batch, bases: Bases) -> None:
    """Block-local ids in the dict rows -> real ids (purchases and lines are shifted as they are written)."""
    c, i = bases.client, bases.interaction
    for row in batch.clients:
        row["id"] += c
    for row in batch.interactions:
        row["id"] += i
        row["client_id"] += c
    for row in batch.followups:
        row["client_id"] += c
        if row["closed_by_id"] is not None:
            row["closed_by_id"] += i
    for row in batch.contracts:
        row["client_id"] += c


class PostgresWriter:
    """Turns a block into COPY text (`prepare`: pure Python, thread-safe) and streams it (`send`)."""

    def __init__(self, clock: Clock):
        self.now = clock.now
        self.tz = clock.tz
        self.quote = connection.ops.quote_name
        self.tables: dict[str, _CopyTable] = {}
        self.day_text: dict[int, tuple[str, str]] = {}
        self.minute_text = [f"{minute // 60:02d}:{minute % 60:02d}:00" for minute in range(24 * 60)]

    def _table(self, model, given) -> _CopyTable:
        key = f"{model._meta.label}:{','.join(given)}"
        if key not in self.tables:
            self.tables[key] = _CopyTable(model, given, self.now, self.quote)
        return self.tables[key]

    def _day(self, ordinal: int) -> tuple[str, str]:
        """'2025-03-30' and that day's UTC offset at midday ('+02:00')."""
        day = dt.date.fromordinal(ordinal)
        offset = dt.datetime.combine(day, dt.time(12), tzinfo=self.tz).isoformat()[-6:]
        text = self.day_text[ordinal] = (day.isoformat(), offset)
        return text

    def prepare(self, batch: Batch, bases: Bases) -> list[tuple[str, str]]:
        _rebase_rows(batch, bases)
        cb, pb = bases.client, bases.purchase
        copies = []

        def add(table: _CopyTable, lines: list[str]) -> None:
            if lines:
                copies.append((table.sql, "".join(lines)))

        def add_dicts(model, rows: list[dict]) -> None:
            if rows:
                table = self._table(model, list(rows[0]))
                add(table, table.dict_lines(rows))

        add_dicts(Client, batch.clients)
        add(self._table(Client.interests.through, ["client_id", "category_id"]),
            [f"{client_id + cb}\t{category_id}\n" for client_id, category_id in batch.interests])
        table = self._table(Purchase, ["id", "client_id", "date", "amount", "currency", "payment_method",
                                       "channel", "notes", "created_by_id", "created_at"])
        suffix, days, minutes, null = table.suffix, self.day_text, self.minute_text, "\\N"
        lines = []
        for pid, client_id, day, cents, currency, payment, channel, notes, by, minute in batch.purchases:
            iso, offset = days.get(day) or self._day(day)
            lines.append(
                f"{pid + pb}\t{client_id + cb}\t{iso}\t{cents // 100}.{cents % 100:02d}\t{currency}\t{payment}\t"
                f"{channel}\t{notes}\t{null if by is None else by}\t{iso} {minutes[minute]}{offset}{suffix}\n"
            )
        add(table, lines)
        table = self._table(PurchaseLine, ["purchase_id", "product_id", "quantity", "unit_price"])
        add(table, [f"{pid + pb}\t{product}\t{qty}\t{unit // 100}.{unit % 100:02d}{table.suffix}\n"
                    for pid, product, qty, unit in batch.lines])
        add_dicts(Interaction, batch.interactions)
        add_dicts(FollowUp, batch.followups)
        add_dicts(Contract, batch.contracts)
        return copies

    def send(self, copies: list[tuple[str, str]]) -> None:
        with connection.cursor() as cursor:
            for sql, text in copies:
                with cursor.copy(sql) as copy:
                    copy.write(text)


class OrmWriter:
    """Any other database (SQLite for the demo): model instances and bulk_create."""

    BATCH_SIZE = 2_000

    def __init__(self, clock: Clock):
        self.at = clock.at

    def prepare(self, batch: Batch, bases: Bases) -> list[tuple[type[models.Model], list[models.Model]]]:
        _rebase_rows(batch, bases)
        cb, pb, at = bases.client, bases.purchase, self.at
        through = Client.interests.through
        return [
            (Client, [Client(**row) for row in batch.clients]),
            (through, [through(client_id=client_id + cb, category_id=category_id)
                       for client_id, category_id in batch.interests]),
            (Purchase, [
                Purchase(id=pid + pb, client_id=client_id + cb, date=dt.date.fromordinal(day),
                         amount=Decimal(cents).scaleb(-2), currency=currency, payment_method=payment, channel=channel,
                         notes=notes, created_by_id=by, created_at=at(day, minute))
                for pid, client_id, day, cents, currency, payment, channel, notes, by, minute in batch.purchases
            ]),
            (PurchaseLine, [
                PurchaseLine(purchase_id=pid + pb, product_id=product, quantity=Decimal(qty),
                             unit_price=Decimal(unit).scaleb(-2))
                for pid, product, qty, unit in batch.lines
            ]),
            (Interaction, [Interaction(**row) for row in batch.interactions]),
            (FollowUp, [FollowUp(**row) for row in batch.followups]),
            (Contract, [Contract(**row) for row in batch.contracts]),
        ]

    def send(self, prepared: list[tuple[type[models.Model], list[models.Model]]]) -> None:
        for model, objects in prepared:
            model.objects.bulk_create(objects, batch_size=self.BATCH_SIZE)


class PostgresBulkLoad:
    """PostgreSQL's recipe for a big load ("Populating a Database" in its manual).

    Drops the loaded tables' secondary indexes and foreign keys, and `restore()` recreates them
    from their saved definitions: one sort per index and one join per key instead of millions
    of index insertions and deferred per-row checks. It all happens inside the caller's
    transaction, so a failure brings them back untouched; meanwhile the tables are locked.
    Primary keys and unique constraints stay.
    """

    def __init__(self, model_list: Sequence[type[models.Model]]):
        self.tables = [m._meta.db_table for m in model_list]
        self.indexes: list[str] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def drop(self) -> None:
        quote = connection.ops.quote_name
        # A table with deferred checks still pending (rows written earlier in this transaction)
        # cannot be altered: run those checks now.
        connection.check_constraints()
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    """
                    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                    FROM pg_index i
                    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                    """,
                    [quote(table)],
                )
                for name, definition in cursor.fetchall():
                    self.indexes.append(definition)
                    cursor.execute(f"DROP INDEX {name}")
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                    [quote(table)],
                )
                for name, definition in cursor.fetchall():
                    self.foreign_keys.append((table, name, definition))
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")

    def restore(self) -> None:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


_worker_generators: dict[Setup, Generator] = {}


def _worker_block(setup: Setup, number: int, start: int, count: int) -> Batch:
    """One block, in a worker process (which keeps its generator, with its Faker pools, between blocks)."""
    if setup not in _worker_generators:
        _worker_generators[setup] = Generator(setup)
    return _worker_generators[setup].block(number, start, count)


def _blocks(setup: Setup, total: int, workers: int, block_clients: int) -> Iterator[Batch]:
    """The blocks in order: built here, or by `workers` processes ahead of need (a few at a time)."""
    spans = [(number, start, min(block_clients, total - start))
             for number, start in enumerate(range(0, total, block_clients))]
    if workers < 1 or len(spans) <= 1:
        generator = Generator(setup)
        for span in spans:
            yield generator.block(*span)
        return
    # "spawn": fresh interpreters, which share nothing with this process's database connection;
    # django.setup() runs in each before the first task (and with it this module) is unpickled.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=django.setup)
    try:
        waiting: deque[Future] = deque()
        upcoming = iter(spans)
        for span in upcoming:
            waiting.append(pool.submit(_worker_block, setup, *span))
            if len(waiting) > workers:
                break
        while waiting:
            batch = waiting.popleft().result()
            span = next(upcoming, None)
            if span is not None:
                waiting.append(pool.submit(_worker_block, setup, *span))
            yield batch
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _prepared_blocks(blocks: Iterator[Batch], writer, bases: Bases) -> Iterator[tuple[Tally, object]]:
    """Prepares block n+1 (generation, ids, COPY text) in a thread while the caller sends block n.

    The thread runs pure Python: the connection, and the transaction, stay in the caller's thread,
    and the database works on one block while Python computes the next.
    """
    handoff: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for batch in blocks:
                tally = Tally(len(batch.clients), len(batch.purchases), len(batch.lines), len(batch.interactions),
                              len(batch.followups), len(batch.contracts))
                prepared = writer.prepare(batch, bases)
                bases.advance(batch)
                put((tally, prepared))
                if stop.is_set():
                    return
            put(None)
        except BaseException as exc:  # handed over to the caller's thread, which raises it
            put(exc)
        finally:
            blocks.close()  # stops worker processes, if any

    thread = threading.Thread(target=produce, name="seed-demo-blocks", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------------------------------------
# The whole build
# ---------------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    logins: list[tuple[str, str, str, str]]  # username, password, role, team
    tally: Tally
    statuses: dict[str, int]
    elapsed: float


def demo_present() -> bool:
    return User.objects.filter(username="admin").exists()


def default_workers() -> int:
    """Generator processes worth starting: none on two cores, where one Python thread and the
    database already keep both busy and the processes' pickling would only add work."""
    cores = os.cpu_count() or 1
    return 0 if cores <= 2 else min(4, cores - 2)


def demo_build(
    *, compute_figures: Callable[[dt.date], object], clients: int = 300, seed: int = 42, comerciales: int = 4,
    workers: int | None = None, block_clients: int = BLOCK_CLIENTS, log: Callable[[str], None] = print,
) -> DemoResult:
    """Writes the whole demo business in one transaction (see the module docstring).

    `compute_figures(as_of)` fills the clients' computed fields once the history is written: the
    caller passes the lifecycle engine (this module sits below segmentation and cannot import it).
    """
    faker_class()  # fail before writing anything
    started = time.monotonic()
    now = timezone.now()
    postgres = connection.vendor == "postgresql"
    loaded = [Client, Client.interests.through, Purchase, PurchaseLine, Interaction, FollowUp, Contract]

    def progress(message: str) -> None:
        log(f"{message} ({time.monotonic() - started:.1f} s)")

    with transaction.atomic():
        staff, logins = _create_staff(comerciales, seed)
        setup = Setup(seed=seed, now=now, time_zone=timezone.get_current_timezone_name(), staff=tuple(staff),
                      categories=_create_catalogue())
        clock = Clock(now, setup.time_zone)
        bulk_load = PostgresBulkLoad(loaded)
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
                # We hand out the ids: keep other writers out until the commit.
                tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in loaded)
                cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
            bulk_load.drop()
        bases = Bases(*[(model.objects.aggregate(top=Max("id"))["top"] or 0) + 1 for model in (Client, Purchase, Interaction)])
        writer = PostgresWriter(clock) if postgres else OrmWriter(clock)
        progress(f"Users, teams and catalogue ready; writing {clients:,} clients")
        tally = Tally()
        blocks = _blocks(setup, clients, default_workers() if workers is None else workers, block_clients)
        for counts, prepared in _prepared_blocks(blocks, writer, bases):
            writer.send(prepared)
            tally.add(counts)
            progress(f"  {tally.clients:>10,} clients  {tally.purchases:>11,} purchases")
        if postgres:
            _reset_sequences([Client, Purchase, Interaction])
        as_of = dt.date.fromordinal(clock.today)
        compute_figures(as_of)
        progress("Figures, status and classifications computed")
        if postgres:
            bulk_load.restore()
            progress("Indexes and foreign keys rebuilt")
    progress("Committed")
    if postgres:
        with connection.cursor() as cursor:
            for model in loaded:
                # VACUUM (outside a transaction only) also drops the row versions the recompute left.
                # Purchases too: their visibility map lets the engine read them from its index alone.
                vacuum = model in (Client, Purchase) and not connection.in_atomic_block
                command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        progress("Statistics gathered")
    statuses = dict(Client.objects.order_by().values_list("status").annotate(n=Count("id")))
    return DemoResult(logins=logins, tally=tally, statuses=statuses, elapsed=time.monotonic() - started)


def _reset_sequences(model_list: list[type[models.Model]]) -> None:
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), model_list):
            cursor.execute(statement)


def _staff_email(first: str, last: str) -> str:
    return f"{fold(first).split()[0]}.{fold(last).split()[0]}@{EMAIL_DOMAIN}"


def _create_staff(comerciales: int, seed: int) -> tuple[list[Staff], list[tuple[str, str, str, str]]]:
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


def _create_catalogue() -> tuple[tuple[int, str, tuple[tuple[int, str, int], ...]], ...]:
    """The catalogue by name (kept if it is already there); prices in cents for the generator."""
    result = []
    for category_name, products in CATALOGUE:
        category, _ = Category.objects.get_or_create(name=category_name)
        rows = []
        for product_name, price in products:
            product, _ = Product.objects.get_or_create(
                name=product_name, defaults={"category": category, "price": Decimal(price)}
            )
            rows.append((product.pk, product.name, int(product.price * 100)))
        result.append((category.pk, category.name, tuple(rows)))
    return tuple(result)


def status_table(statuses: dict[str, int]) -> list[tuple[str, int]]:
    return [(str(label), statuses.get(code, 0)) for code, label in Status.choices]

