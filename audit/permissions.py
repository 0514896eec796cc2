"""Who may read the access audit through the API."""

from rest_framework.permissions import BasePermission


class CanViewAccessRecords(BasePermission):
    """`audit.view_accessrecord`: the auditor role and superusers. Asked for every method,
    so a write gets 405 (there is none) from someone who may read and 403 from anyone else."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("audit.view_accessrecord")
