"""SMS backends: the console for development, a Twilio-compatible REST gateway for production."""

import sys

import requests
from django.conf import settings

from notifications.backends.base import (
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)


class ConsoleSMSBackend:
    """Writes each SMS to stdout, without the number (only the first name is in the text)."""

    def send(self, message: OutgoingMessage) -> None:
        sys.stdout.write(f"[sms] notification {message.id}: {message.body}\n")
        sys.stdout.flush()


class TwilioSMSBackend:
    """Twilio's Messages API, or any gateway that speaks it (SMS_GATEWAY_URL).

    The notification id goes in an `Idempotency-Key` header, so a gateway that honours it
    sends a message once even when a worker died after the send and before marking it.
    """

    def __init__(self):
        self.url = (
            f"{settings.SMS_GATEWAY_URL.rstrip('/')}/2010-04-01/Accounts/"
            f"{settings.SMS_ACCOUNT_SID}/Messages.json"
        )
        self.auth = (settings.SMS_ACCOUNT_SID, settings.SMS_AUTH_TOKEN)

    def send(self, message: OutgoingMessage) -> None:
        try:
            response = requests.post(
                self.url,
                data={"To": message.recipient, "From": settings.SMS_FROM, "Body": message.body},
                auth=self.auth,
                headers={"Idempotency-Key": message.id},
                timeout=settings.SMS_TIMEOUT,
            )
        except requests.Timeout:
            raise TransientDeliveryError("SMS gateway timed out") from None
        except requests.RequestException as exc:
            raise TransientDeliveryError(
                f"SMS gateway unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code < 300:
            return
        # Only the status and the gateway's error code: its message may quote the number.
        code = _error_code(response)
        detail = f"SMS gateway answered {response.status_code}"
        if code:
            detail += f" (code {code})"
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientDeliveryError(detail)
        raise PermanentDeliveryError(detail)


def _error_code(response) -> str:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return ""
    return str(code) if isinstance(code, int) else ""
