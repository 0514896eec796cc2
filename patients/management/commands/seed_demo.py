"""`manage.py seed_demo --patients N`: made-up patients for demos and benchmarks, by bulk
inserts, with a progress bar."""

import argparse

from django.core.management.base import CommandError
from tqdm import tqdm

from api import commands
from patients.services import PatientConflict, patients_seed_demo

MAX_PATIENTS = 10_000_000


def _count(value: str) -> int:
    try:
        count = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if not 0 <= count <= MAX_PATIENTS:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_PATIENTS:,}")
    return count


class Command(commands.Command):
    help = (
        "Add made-up patients (seed<i>@example.org, +1555<i>) until there are N, with their "
        "first version and no notices. For demos and benchmarks: never on real data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=_count, required=True, metavar="N")
        parser.add_argument("--batch-size", type=_count, default=5000, metavar="ROWS")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, patients, batch_size, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        with tqdm(
            total=patients,
            unit=" patients",
            unit_scale=True,
            disable=no_progress,
            file=self.stderr._out,
        ) as bar:
            try:
                added = patients_seed_demo(
                    count=patients, batch_size=batch_size, progress=bar.update
                )
            except PatientConflict:
                raise CommandError(
                    "a patient already has one of the demo addresses (seed<i>@example.org or "
                    "+1555<i>): seed an empty database instead"
                ) from None
        self.stdout.write(f"Added {added} patient(s); there are now at least {patients}.")
