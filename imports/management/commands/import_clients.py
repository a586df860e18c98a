from imports.management.commands._base import ImportCommand
from imports.services import Kind


class Command(ImportCommand):
    help = (
        "Imports clients from a CSV or XLSX (columns recognised by their names in Spanish, Portuguese or "
        "English); existing clients (same reference, tax id or e-mail) only get their empty fields filled."
    )
    kind = Kind.CLIENTS
