"""What the project's management commands share: a wrong argument is one line on stderr and a
non-zero exit status, never a usage block or a traceback."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """A BaseCommand whose argument errors are argparse's one line (exit status 2; --help still
    shows the usage), and which refuses arguments that are not text.

    An argument with bytes that are not UTF-8 reaches Python as lone surrogates, which no
    database accepts: without this check it is a UnicodeEncodeError and its traceback.
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.print_usage = lambda file=None: None
        return parser

    def run_from_argv(self, argv):
        for argument in argv[2:]:
            try:
                argument.encode("utf-8")
            except UnicodeEncodeError:
                self._called_from_command_line = True  # so parser.error exits, not raises
                parser = self.create_parser(argv[0], argv[1])
                parser.error(f"argument {argument!r} is not UTF-8 text")
        super().run_from_argv(argv)
