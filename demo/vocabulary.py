"""What the demo's clients are and what is written about them: sectors, company names, hobbies,
notes, interaction summaries and follow-up notes (in Spanish and Portuguese), buying rhythms and
baskets."""

from clients.models import FollowUp, Interaction

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
