"""Who may export: users with the export permission (the data_manager role has it)."""

from rest_framework.permissions import BasePermission

from exports.models import EXPORT_PERMISSION


class CanExportPatients(BasePermission):
    """`exports.export_patients`, for every bulk export URL: a user whose role was taken away
    can no longer fetch the files of an export started before."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm(EXPORT_PERMISSION))
