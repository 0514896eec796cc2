"""Delivery backends: SMS through a backend chosen by SMS_BACKEND, email through Django's email
framework. Both raise TransientDeliveryError (worth retrying) or PermanentDeliveryError."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

SMS_BACKENDS = {
    "console": "notifications.backends.sms.ConsoleSMSBackend",
    "twilio": "notifications.backends.sms.TwilioSMSBackend",
}

_EMAIL_OR_PHONE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+|\+?\d[\d\s().-]{5,}\d")


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message. `id` is the notification's id: the gateways' idempotency key."""

    id: str
    channel: str
    recipient: str
    subject: str
    body: str


class DeliveryError(Exception):
    """A failed send. The text is kept on the notification, so it must never hold an address."""


class TransientDeliveryError(DeliveryError):
    """The gateway may take it later: connection refused, a timeout, a 5xx, a 429."""


class PermanentDeliveryError(DeliveryError):
    """The gateway refused this message for good: a 4xx, a rejected address."""


def redact(text: str) -> str:
    """Text from a gateway with anything that looks like an address or phone number removed."""
    return _EMAIL_OR_PHONE.sub("<redacted>", text)[:500]


def get_sms_backend():
    path = SMS_BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()


def deliver(message: OutgoingMessage) -> None:
    """Send a message by its channel's backend."""
    if message.channel == "sms":
        get_sms_backend().send(message)
    else:
        from notifications.backends.email import send_email

        send_email(message)
