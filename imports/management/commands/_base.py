"""What import_clients and import_purchases share: read, analyse, report, write (unless --dry-run)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from imports.services import import_analyse, import_apply, proposed_mapping
from imports.spreadsheets import FileRefused, read_table

MAX_ERRORS_SHOWN = 50


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (any usual encoding and separator) or XLSX with a header row")
        parser.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
        parser.add_argument("--owner", help="username of the salesperson who owns the clients created")
        parser.add_argument(
            "--only-valid", action="store_true", help="import the valid rows and list the others (default: all or nothing)"
        )

    def handle(self, *args, file: str, dry_run: bool = False, owner: str | None = None, only_valid: bool = False,
               create_missing_clients: bool = False, create_missing_products: bool = False, **options):
        owner_user = self._owner(owner)
        try:
            table = read_table(Path(file).read_bytes(), filename=file)
        except FileNotFoundError as error:
            raise CommandError(f"No such file: {file}") from error
        except FileRefused as error:
            raise CommandError(str(error)) from error
        mapping = proposed_mapping(self.kind, table)
        self.stdout.write("Columns: " + ", ".join(
            f"{header} → {next((name for name, index in mapping.items() if index == position), '(ignored)')}"
            for position, header in enumerate(table.headers)
        ))
        analysis = import_analyse(
            table, self.kind, mapping, visible=None, owner_chosen=owner_user is not None,
            create_missing_clients=create_missing_clients, create_missing_products=create_missing_products,
        )
        if analysis.needs_owner and not dry_run:
            raise CommandError(f"Nothing imported: --owner USERNAME is needed to create {len(analysis.new_clients)} clients.")
        if not analysis.importable and not analysis.needs_owner:
            raise CommandError("Nothing imported: " + " ".join(analysis.problems))
        for error in analysis.errors[:MAX_ERRORS_SHOWN]:
            self.stderr.write(f"row {error.line}, column {error.column or '-'}, value {error.value!r}: {error.message}")
        if len(analysis.errors) > MAX_ERRORS_SHOWN:
            self.stderr.write(f"… and {len(analysis.errors) - MAX_ERRORS_SHOWN} more errors")
        for warning in analysis.warnings[:MAX_ERRORS_SHOWN]:  # imported all the same
            self.stderr.write(f"warning: row {warning.line}, column {warning.column or '-'}, value {warning.value!r}: {warning.message}")
        summary = analysis.summary()
        figures = (
            f"{summary['rows']} rows, {summary['bad_rows']} with errors; clients: {summary['clients_created']} new, "
            f"{summary['clients_matched']} existing ({summary['clients_completed']} completed); purchases: "
            f"{summary['purchases_created']} new, {summary['already_imported']} already imported"
        )
        if summary["products_created"]:
            names = ", ".join(summary["new_products"]) + (", …" if summary["products_created"] > len(summary["new_products"]) else "")
            hint = "" if create_missing_products else ", not in the catalogue: --create-products adds them"
            figures += f"; new products: {summary['products_created']} ({names}{hint})"
        if analysis.errors and not only_valid:
            raise CommandError(f"Nothing imported: {len(analysis.bad_lines)} rows have errors ({figures}).")
        if dry_run:
            self.stdout.write(f"Dry run, nothing written: {figures}")
            return
        result = import_apply(analysis, owner=owner_user)
        skipped = f"; skipped rows: {', '.join(map(str, analysis.bad_lines))}" if analysis.bad_lines else ""
        self.stdout.write(f"Imported: {figures}; {result.status_changes} status changes{skipped}")

    def _owner(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No active user {username!r}") from error
