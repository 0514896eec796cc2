"""factory_boy factories for patient records, in the stored (normalized) form.

A factory-made patient has no notices: a test that needs the welcome notice a creation
queues calls `patients.services.patient_create` instead.
"""

import factory

from patients.models import Patient

# The patient most tests are about: a name with a first and a last part, and her addresses in
# their stored form.
ANN = {"name": "Ann Marlowe", "email": "ann@example.com", "phone": "+15550101234"}


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    name = factory.Sequence(lambda n: f"Pat Example{n}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    phone = factory.Sequence(lambda n: f"+1555{n:07d}")

    class Params:
        prefers_email = factory.Trait(preferred_channel="email")
        sms_opted_out = factory.Trait(sms_opt_out=True)
        email_opted_out = factory.Trait(email_opt_out=True)
