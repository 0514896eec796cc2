from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Staff users, roles, API tokens, the login lockout and second factors."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts import signals
        from accounts.middleware import session_login_stamp

        signals.connect()
        user_logged_in.connect(session_login_stamp, dispatch_uid="accounts.session_login_stamp")


class ClinicAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with our site (accounts.admin_site) as `admin.site`; it stands in
    for "django.contrib.admin" in INSTALLED_APPS."""

    default = False
    default_site = "accounts.admin_site.ClinicAdminSite"
