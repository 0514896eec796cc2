"""The audit endpoint, with or without a trailing slash."""

from django.urls import re_path

from audit import views

urlpatterns = [
    re_path(r"^audit/?$", views.AccessRecordListView.as_view(), name="audit-list"),
]
