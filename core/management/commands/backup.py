"""`manage.py backup` (`make backup`): a consistent, timestamped backup of the database in BACKUP_DIR."""

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, backup_database


class Command(BaseCommand):
    help = "Writes a consistent backup of the database (pg_dump custom format, or SQLite's backup API) to BACKUP_DIR."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="the database alias (default: default)")
        parser.add_argument("--dir", dest="directory", help="where to write it (default: the BACKUP_DIR setting)")

    def handle(self, *args, database: str, directory: str | None, **options) -> None:
        try:
            result = backup_database(alias=database, directory=directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Backed up {result.database} to {result.path} ({result.size / 1_048_576:.1f} MB in {result.seconds:.1f} s)"
        )
