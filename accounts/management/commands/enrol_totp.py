"""`manage.py enrol_totp USERNAME`: give a staff member an authenticator app (TOTP) as their
second factor, in two steps: enrol (prints the app's setup link, and with --qr a QR code to
scan), then --confirm with a code the app shows. Only a confirmed device is asked for at login.
"""

from io import StringIO

import segno
from django.core.management.base import CommandError

from accounts.services import totp_confirm, totp_enrol
from api import commands
from api.exceptions import ApplicationError


class Command(commands.Command):
    help = (
        "Enrol an authenticator app for USERNAME: prints its otpauth:// setup link (last "
        "line); then run again with --confirm CODE to require it at every login."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--qr", action="store_true", help="also draw the QR code to scan")
        parser.add_argument("--name", default="Authenticator app", help="the device's name")
        parser.add_argument(
            "--confirm", metavar="CODE", help="confirm the enrolled app with a code it shows"
        )

    def handle(self, *args, username, qr, name, confirm, **options):
        try:
            if confirm is not None:
                totp_confirm(username=username, code=confirm)
                self.stdout.write(f"Confirmed: {username} now gives a code at every login.")
                return
            device = totp_enrol(username=username, name=name[:64])
        except ApplicationError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"Add this to {username}'s authenticator app (scan the QR code or open the link on "
            f"the phone), then run: manage.py enrol_totp {username} --confirm <code>"
        )
        if qr:
            drawing = StringIO()
            segno.make(device.config_url).terminal(out=drawing, compact=True)
            self.stdout.write(drawing.getvalue(), ending="")
        self.stdout.write(device.config_url)
