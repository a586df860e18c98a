from imports.management.commands._base import ImportCommand
from imports.services import Kind


class Command(ImportCommand):
    help = (
        "Imports purchases from a CSV or XLSX (client reference, tax id or e-mail; date; amount; optionally "
        "quantity and product); a purchase already recorded is not recorded again."
    )
    kind = Kind.PURCHASES

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--create-missing-clients", action="store_true",
            help="create a client (with --owner) for each one the file names and the base does not have",
        )
        parser.add_argument(
            "--create-products", action="store_true", dest="create_missing_products",
            help="add to the catalogue (no list price, category IMPORT_PRODUCT_CATEGORY) the products the file names "
            "and the catalogue does not have; names differing only in accents, case or spaces are one product",
        )
