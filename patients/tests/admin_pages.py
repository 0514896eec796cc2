"""The patient admin's pages as the tests drive them: their URLs, a valid form, and the rows a
changelist lists."""

import contextlib

from patients.models import Patient

CHANGELIST = "/admin/patients/patient/"
ADD = "/admin/patients/patient/add/"


def change_url(patient: Patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/change/"


def delete_url(patient: Patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/delete/"


def form_data(**overrides) -> dict:
    return {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "5551234567",
        "preferred_channel": "sms",
        **overrides,
    }


def listed(response) -> list[Patient]:
    return list(response.context["cl"].result_list)


@contextlib.contextmanager
def meanwhile(signal, write):
    """Run `write` once, the first time `signal` (post_init: the page has read a patient;
    pre_save: it is about to save one) fires for a patient inside the block: another
    request's write landing between the page's read or checks and its save."""
    pending = [write]

    def receiver(sender, **kwargs):
        if pending:
            pending.pop()()

    signal.connect(receiver, sender=Patient, weak=False)
    try:
        yield
    finally:
        signal.disconnect(receiver, sender=Patient)
