"""Who may use the FHIR Patient API: the patients' model permissions, as in the REST API."""

from api.permissions import ModelPermissionsWithView


class SearchPermissions(ModelPermissionsWithView):
    """For POST /fhir/Patient/_search: a search, which only reads (view_patient), though it
    comes as a POST (its form body keeps the search values out of the URL)."""

    perms_map = {
        **ModelPermissionsWithView.perms_map,
        "POST": ModelPermissionsWithView.perms_map["GET"],
    }
