"""`manage.py import_patients FILE`: patients from a CSV, NDJSON or the original service's
SQLite database, checked as the API checks them, in batches, with a report of every row.
docs/import-export.md describes the formats and the report."""

import argparse
import os
from collections import Counter
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from api import commands
from patients.imports import (
    FORMATS,
    ImportFileError,
    RowValidator,
    count_rows,
    detect_format,
    read_rows,
    report_writer,
)
from patients.services import ImportOutcome, Outcome, PatientsImport


def _batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if not 1 <= size <= 10_000:
        raise argparse.ArgumentTypeError("must be from 1 to 10000")
    return size


class Command(commands.Command):
    help = (
        "Add the patients of FILE (CSV, NDJSON, or the original service's SQLite database) "
        "that are not already here, checked by the API's rules. Every row's outcome goes to "
        "a report file readable by its owner only. No notices unless --notify."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE")
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file.")
        parser.add_argument(
            "--report",
            type=Path,
            metavar="PATH",
            help="Where the report goes (a new file). Default: beside FILE, named after it.",
        )
        parser.add_argument(
            "--notify", action="store_true", help="Send each new patient the welcome notice."
        )
        parser.add_argument("--batch-size", type=_batch_size, default=1000, metavar="ROWS")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file: Path, report: Path | None, no_progress: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file} is not a file")
        report = report or _default_report(file)
        try:
            file_format = options["format"] or detect_format(file)
            total = count_rows(file, file_format)
            rows = read_rows(file, file_format)
            with _new_private_file(report) as stream:
                counts = self._run(
                    rows, stream, total, options["batch_size"], options["notify"], no_progress
                )
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None
        except OSError as exc:
            raise CommandError(f"{exc.filename or file}: {exc.strerror}") from None
        except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback, and 128 + SIGINT
            raise CommandError(
                f"interrupted: the batches before were added (see {report}); run it again to "
                "add the rest",
                returncode=130,
            ) from None
        self.stdout.write(
            f"Imported {counts[Outcome.CREATED]:,} new patient(s) from {file}; "
            + ", ".join(
                f"{counts[outcome]:,} {outcome.label}"
                for outcome in Outcome
                if outcome != Outcome.CREATED
            )
            + f". Report: {report}"
        )

    def _run(self, rows, stream, total, batch_size, notify, no_progress) -> Counter:
        validator = RowValidator()
        run = PatientsImport(notify=notify)
        writer = report_writer(stream)
        counts: Counter = Counter()
        with tqdm(total=total, unit=" rows", disable=no_progress, file=self.stderr._out) as bar:
            while batch := list(islice(rows, batch_size)):
                checked = [validator.check(row) for row in batch]
                valid = [row for row in checked if not isinstance(row, ImportOutcome)]
                outcomes = iter(run.add(valid))
                for row in checked:
                    outcome = row if isinstance(row, ImportOutcome) else next(outcomes)
                    counts[outcome.outcome] += 1
                    writer.writerow(
                        [outcome.line, outcome.outcome, outcome.patient_id or "", outcome.reason]
                    )
                stream.flush()
                bar.update(len(batch))
        return counts


def _default_report(file: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return file.with_name(f"{file.name}.import-{stamp}.csv")


def _new_private_file(path: Path):
    # Created readable by its owner only, from the start (it names patients and lines of a
    # file of them), and never over an existing file.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    # backslashreplace: a reason quoting bytes that were not UTF-8 is written, not a crash.
    return os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace", newline="")
