"""The outbox in the admin: what was sent to whom and when, with a resend action."""

from django.contrib import admin, messages

from audit.mixins import AuditedAdminMixin
from notifications.models import Notification
from notifications.selectors import notifications_search
from notifications.services import (
    NotificationErased,
    NotificationInProgress,
    notification_resend,
)


@admin.register(Notification)
class NotificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # Notices show a patient's first name and address: each page is recorded with the ids of
    # the patients its notices are about.
    audit_patient_field = "patient_ref"
    list_display = [
        "created_at",
        "patient",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel", "kind", "created_at"]
    # The search box: staff look a notice up by what they know of the patient (through the
    # foreign key), by its recipient or by an id; see get_search_results.
    search_fields = ["recipient"]
    search_help_text = "A patient's name, email or phone, a recipient, or an id."
    list_select_related = ["patient"]
    ordering = ["-created_at", "-id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        return notifications_search(queryset, search_term), False

    def has_add_permission(self, request):
        # Notices come from patient changes (or a resend), never by hand; the add
        # permission is what allows a resend.
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.add_notification")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the outbox is the record of what was sent; it goes with the patient

    @admin.action(description="Resend the selected notifications", permissions=["resend"])
    def resend(self, request, queryset):
        resent = in_progress = erased = 0
        for notification in queryset.select_related("patient"):
            try:
                notification_resend(notification=notification, actor=request.user)
                resent += 1
            except NotificationInProgress:
                in_progress += 1
            except NotificationErased:
                erased += 1
        self.message_user(request, f"{resent} notification(s) queued again.", messages.SUCCESS)
        if in_progress:
            self.message_user(
                request,
                f"{in_progress} still on their way were left alone: resend them once done.",
                messages.WARNING,
            )
        if erased:
            self.message_user(
                request,
                f"{erased} whose recipient was erased (retention period) cannot be resent.",
                messages.WARNING,
            )
