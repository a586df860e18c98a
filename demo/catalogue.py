"""The demo's catalogue: eight categories of office supplies and services, five products each."""

from decimal import Decimal

from clients.models import Category, Product

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


def catalogue_create() -> tuple[tuple[int, str, tuple[tuple[int, str, int], ...]], ...]:
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
