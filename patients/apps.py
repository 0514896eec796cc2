from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self):
        # The outbox asks the patient side (which it does not import) before it resends a
        # notice, and to find the patients a staff search names.
        from notifications.selectors import patient_search_register
        from notifications.services import resend_consent_register
        from patients.selectors import patient_consents_to_resend, patient_ids_matching

        resend_consent_register(patient_consents_to_resend)
        patient_search_register(patient_ids_matching)
