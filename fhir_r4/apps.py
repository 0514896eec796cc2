from django.apps import AppConfig


class FhirR4Config(AppConfig):
    """FHIR R4's Patient API: a face over the patients' services and selectors. Named
    fhir_r4, not fhir, because the fhir.resources package owns the `fhir` package name."""

    name = "fhir_r4"
    verbose_name = "FHIR R4"

    def ready(self):
        from api.errorshapes import error_shape_register
        from fhir_r4.outcomes import front_error_outcome
        from fhir_r4.renderers import FHIR_JSON

        # The request guards and the web server's front answer before any view: under /fhir
        # they answer an OperationOutcome too.
        error_shape_register(
            prefix="/fhir/",
            media_type=FHIR_JSON,
            body=front_error_outcome,
            schema={"$ref": "#/components/schemas/FhirOperationOutcome"},
        )
