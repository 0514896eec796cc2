"""The patient admin's pages as the tests drive them: their URLs, a valid form, and the rows a
changelist lists."""

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
