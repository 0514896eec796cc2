"""What the FHIR face keeps of its own: the parameters of POST searches, for their paging."""

from django.conf import settings
from django.db import models


class SavedSearch(models.Model):
    """The parameters of a `POST /fhir/Patient/_search`, kept so that its pages' links name
    the search by this random id and never carry its values (a name, an email, a phone or a
    birth date: PHI, which URLs spread to logs, proxies and browser history). Only the user
    who ran the search may page through it, and only until `expires_at`
    (FHIR_SEARCH_LIFETIME); the beat task `fhir_r4.searches_expire` deletes it after."""

    id = models.CharField(primary_key=True, max_length=64, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Each parameter's values, as a form gives them: {"name": ["ann"], "_count": ["20"]}.
    params = models.JSONField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        # Nobody manages these by hand: no admin, no permissions to grant.
        default_permissions = ()

    def __str__(self) -> str:
        return f"search {self.id[:8]}"
