"""What the admin's pages share."""


class ReadOnlyAdminMixin:
    """A ModelAdmin whose rows nobody, superusers included, adds, changes or deletes: records
    (versions, access records) that must stay as they were written."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
