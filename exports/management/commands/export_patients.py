"""`manage.py export_patients --format csv|ndjson --output FILE`: every patient, as the API
shows them, in a new file readable by its owner only, with a progress bar.
docs/import-export.md has the format and the figures."""

import argparse
from datetime import datetime
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from api import commands
from exports.selectors import export_file_patients
from exports.services import FILE_FORMATS, ExportFileRefused, patients_export_file


def _instant(value: str) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        instant = None
    # Without an offset the instant would depend on the server's time zone.
    if instant is None or instant.tzinfo is None:
        raise argparse.ArgumentTypeError(
            "must be an ISO 8601 instant with its offset, e.g. 2026-01-31T00:00:00Z"
        )
    return instant


class Command(commands.Command):
    help = (
        "Write every patient (or those changed since an instant), as the API shows them, to a "
        "new CSV or NDJSON file readable by its owner only. Each patient read is in the "
        "access audit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="file_format", choices=FILE_FORMATS, required=True)
        # Required, with no default: patient data goes where the operator says, never to
        # a terminal's scrollback or a file nobody asked for.
        parser.add_argument("--output", type=Path, required=True, metavar="FILE")
        parser.add_argument(
            "--since",
            type=_instant,
            metavar="INSTANT",
            help="Only patients changed at or after this instant (ISO 8601, with its offset).",
        )
        parser.add_argument("--force", action="store_true", help="Replace FILE if it exists.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file_format, output, since, force, no_progress, **options):
        # The bar's total is one COUNT first; patients added meanwhile are exported too.
        total = None if no_progress else export_file_patients(since=since).count()
        with tqdm(
            total=total,
            unit=" patients",
            unit_scale=True,
            disable=no_progress,
            file=self.stderr._out,
        ) as bar:
            try:
                written = patients_export_file(
                    dest=output,
                    file_format=file_format,
                    since=since,
                    overwrite=force,
                    progress=bar.update,
                )
            except ExportFileRefused as exc:
                raise CommandError(str(exc)) from None
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from None
            except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback, and 128 + SIGINT
                raise CommandError(f"interrupted: {output} not written", returncode=130) from None
        self.stdout.write(f"Exported {written} patient(s) to {output}.")
