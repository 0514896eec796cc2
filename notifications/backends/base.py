"""What every delivery backend shares: the message it is given and the errors it raises."""

import re
from dataclasses import dataclass

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
