from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Staff users, roles, API tokens, the login lockout and second factors."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import signals

        signals.connect()


class ClinicAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with our site (accounts.admin_site) as `admin.site`; it stands in
    for "django.contrib.admin" in INSTALLED_APPS."""

    default = False
    default_site = "accounts.admin_site.ClinicAdminSite"
