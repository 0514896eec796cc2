"""Delivery backends: SMS through a backend chosen by SMS_BACKEND, email through Django's email
framework. Both raise TransientDeliveryError (worth retrying) or PermanentDeliveryError."""

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.backends.base import OutgoingMessage
from notifications.backends.email import send_email

SMS_BACKENDS = {
    "console": "notifications.backends.sms.ConsoleSMSBackend",
    "twilio": "notifications.backends.sms.TwilioSMSBackend",
}


def get_sms_backend():
    path = SMS_BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()


def deliver(message: OutgoingMessage) -> None:
    """Send a message by its channel's backend."""
    if message.channel == "sms":
        get_sms_backend().send(message)
    else:
        send_email(message)
