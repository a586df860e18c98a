"""`manage.py restore FILE` (`make restore FILE=…`): restores a backup into an empty database."""

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, restore_database


class Command(BaseCommand):
    help = (
        "Restores a backup written by `manage.py backup` into an empty database: the configured one "
        "(DATABASE_URL), or --target on the same server. A database holding any table is refused."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the backup file (.dump for PostgreSQL, .sqlite3 for SQLite)")
        parser.add_argument("--database", default="default", help="the database alias (default: default)")
        parser.add_argument(
            "--target", help="restore into this database instead (PostgreSQL: a database name on the same server, "
            "created empty beforehand; SQLite: a new file's path)",
        )
        parser.add_argument(
            "--jobs", type=int, default=1, help="PostgreSQL: parallel pg_restore jobs; 1 (the default) restores in "
            "one transaction, all or nothing",
        )

    def handle(self, *args, file: str, database: str, target: str | None, jobs: int, **options) -> None:
        try:
            result = restore_database(path=file, alias=database, target=target, jobs=jobs)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {result.path} into {result.database} in {result.seconds:.1f} s")
