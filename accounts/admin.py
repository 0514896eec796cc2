"""Staff logins and API tokens in the admin."""

from django.contrib import admin
from knox import admin as knox_admin
from knox.models import AuthToken


class TokenAdmin(knox_admin.AuthTokenAdmin):
    """Tokens are issued by login or `issue_token`, never in the admin, which would allow
    tokens that never expire; deleting one here revokes it."""

    list_display = ["token_key", "user", "created", "expiry"]

    def has_add_permission(self, request):
        return False


admin.site.unregister(AuthToken)
admin.site.register(AuthToken, TokenAdmin)

# The login form, its lockout and second factor are the site's own (accounts.admin_site).
# TOTP devices are in the admin by django-otp's own registration (Otp_Totp, TOTP devices),
# with a QR code per device for the authenticator app.
