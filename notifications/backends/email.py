"""Email through Django's email framework (SMTP in production, EMAIL_* settings)."""

import smtplib
import sys

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from notifications.backends.base import (
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    redact,
)


def message_id(notification_id: str) -> str:
    """The Message-ID of a notification's email: the idempotency key mail systems dedupe on."""
    return f"<{notification_id}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def send_email(message: OutgoingMessage) -> None:
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": message_id(message.id)},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    try:
        email.send()
    except smtplib.SMTPAuthenticationError:
        # Our credentials, not the message: worth retrying once someone fixes them.
        raise TransientDeliveryError("SMTP authentication failed") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        _raise_for_code(min(codes) if codes else 550, "SMTP server refused the recipient")
    except smtplib.SMTPResponseException as exc:
        _raise_for_code(exc.smtp_code, f"SMTP error: {redact(_text(exc.smtp_error))}")
    except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, disconnected
        raise TransientDeliveryError(f"SMTP server unreachable ({type(exc).__name__})") from None


def _raise_for_code(code: int, detail: str):
    if 400 <= code < 500:
        raise TransientDeliveryError(f"{detail} ({code})") from None
    raise PermanentDeliveryError(f"{detail} ({code})") from None


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class ConsoleEmailBackend(BaseEmailBackend):
    """Django's console backend without the addresses, which must stay out of logs."""

    def send_messages(self, email_messages):
        for email in email_messages:
            sys.stdout.write(
                f"[email] {email.extra_headers.get('Message-ID', '')} "
                f"Subject: {email.subject}\n{email.body}\n"
            )
        sys.stdout.flush()
        return len(email_messages)
