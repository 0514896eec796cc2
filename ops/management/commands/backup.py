"""`manage.py backup DEST`: a consistent copy of the live SQLite database, taken while the
service runs. docs/operations.md#backups has the restore steps and PostgreSQL's way."""

from pathlib import Path

from django.core.management.base import CommandError

from api import commands
from audit.models import Action, Via
from audit.services import COMMAND_FAILED, COMMAND_SUCCEEDED, access_record
from ops.services import BackupRefused, database_backup


class Command(commands.Command):
    help = (
        "Copy the live SQLite database to DEST (a new file, readable by its owner only) "
        "with SQLite's online backup API, while the service runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("dest", type=Path, metavar="DEST")

    def handle(self, *args, dest: Path, **options):
        # Every patient is in the copy: the access audit records that it was taken, and when.
        # Not through command_access, whose transaction would hold SQLite's write lock, and
        # so every writer of the service, for as long as the copy takes.
        try:
            size = database_backup(dest=dest)
        except BackupRefused as exc:
            self._record(COMMAND_FAILED)
            raise CommandError(str(exc)) from None
        except OSError as exc:
            self._record(COMMAND_FAILED)
            raise CommandError(f"cannot write {dest}: {exc.strerror}") from None
        self._record(COMMAND_SUCCEEDED)
        self.stdout.write(f"Backed up the database to {dest} ({size:,} bytes).")

    def _record(self, status: int) -> None:
        access_record(
            action=Action.DATABASE_BACKUP, via=Via.COMMAND, status_code=status, path="backup"
        )
