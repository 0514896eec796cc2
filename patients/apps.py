from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self):
        # The outbox asks whoever decides who is told before it resends a notice.
        from notifications.services import resend_consent_register
        from patients.selectors import patient_consents_to_resend

        resend_consent_register(patient_consents_to_resend)
