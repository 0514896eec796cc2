"""Template context every page shares."""

from django.conf import settings


def clinic(request):
    """The clinic's name, which brands the browsable API (the admin takes it from its site)."""
    return {"clinic_name": settings.CLINIC_NAME}
