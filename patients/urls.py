"""URLs of the patients API, each with or without a trailing slash."""

from rest_framework.routers import SimpleRouter

from patients import views

router = SimpleRouter()
router.trailing_slash = "/?"  # the constructor only knows "/" or ""; the regex takes either
router.register("patients", views.PatientViewSet, basename="patient")

urlpatterns = router.urls
