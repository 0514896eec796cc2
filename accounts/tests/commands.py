"""Running the accounts' management commands as from the command line."""

from io import StringIO

from django.core.management import call_command


def run(*args) -> str:
    """Run a command; its standard output."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]
