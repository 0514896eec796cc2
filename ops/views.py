"""What operators and load balancers call: liveness, readiness, every dependency's status, and
the Prometheus metrics. None of them says anything about a patient."""

import logging

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.schema import ACCESS_ERRORS, FORBIDDEN, UNAUTHORIZED
from ops.authentication import MetricsTokenAuthentication
from ops.collectors import CONTENT_TYPE, metrics_scrape
from ops.permissions import MetricsScrape, StaffOrMetricsToken
from ops.renderers import FirstRenderer
from ops.selectors import (
    broker_check,
    database_check,
    database_read,
    outbox_check,
    worker_check,
)
from ops.serializers import HealthStatusSerializer, LivenessSerializer, ReadinessSerializer

logger = logging.getLogger(__name__)

TAGS = ["operations"]


def _unavailable(component: str, description: str) -> OpenApiResponse:
    """A 503: the check's answer, or the web server's own when the process is overloaded
    (api.serving's `{"error": "Server busy, try again shortly"}`)."""
    overloaded = {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    }
    return OpenApiResponse(
        {"oneOf": [{"$ref": f"#/components/schemas/{component}"}, overloaded]},
        description=description,
    )


class _ProbeView(APIView):
    """No credentials, no session, no rate limit (whose counters are in Redis): a probe
    touches nothing it does not check. JSON whatever the Accept header says."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = FirstRenderer


class LivenessView(_ProbeView):
    """GET /healthz: the process answers; nothing else is asked."""

    @extend_schema(
        operation_id="healthz",
        summary="Liveness: the process answers",
        description="200 whenever the web process can answer. It calls neither the database "
        "nor Redis: restart the process only when this fails.",
        responses={200: LivenessSerializer},
        auth=[],
        tags=TAGS,
    )
    def get(self, request):
        return Response({"status": "ok"})


class ReadinessView(_ProbeView):
    """GET /readyz: the database answers; what a load balancer's rotation needs."""

    @extend_schema(
        operation_id="readyz",
        summary="Readiness: the database answers",
        description="200 when a new database connection answers `SELECT 1` within "
        "HEALTH_CHECK_TIMEOUT, 503 otherwise: take the process out of the load balancer's "
        "rotation. Neither Redis nor the workers count: the API serves without them.",
        responses={
            200: ReadinessSerializer,
            503: _unavailable("Readiness", "The database did not answer."),
        },
        auth=[],
        tags=TAGS,
    )
    def get(self, request):
        database = database_check(timeout=settings.HEALTH_CHECK_TIMEOUT)
        if database["ok"]:
            return Response({"status": "ok"})
        logger.warning("not ready: the database check failed (%s)", database["error"])
        return Response({"status": "unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)


class HealthStatusView(APIView):
    """GET /health/status: every dependency by name, each ok or failing with its figure."""

    authentication_classes = (
        MetricsTokenAuthentication,
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
    )
    permission_classes = (StaffOrMetricsToken,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="health_status",
        summary="Every dependency, each ok or failing, with its figure",
        description="For staff (an API token or the session) or the METRICS_TOKEN bearer. "
        "Each check within HEALTH_CHECK_TIMEOUT. "
        "`database`: a new connection's `SELECT 1`; `broker`: Redis `PING`; `worker`: a Celery "
        "worker ran the heartbeat task within HEALTH_WORKER_MAX_AGE; `outbox`: no notice has "
        "waited longer than HEALTH_OUTBOX_MAX_AGE. 200 when all are ok, 503 when any fails.",
        responses={
            200: HealthStatusSerializer,
            503: _unavailable("HealthStatus", "A dependency is failing."),
            **ACCESS_ERRORS,
        },
        tags=TAGS,
    )
    def get(self, request):
        timeout = settings.HEALTH_CHECK_TIMEOUT
        checks = {
            "database": database_check(timeout=timeout),
            "broker": broker_check(url=settings.CELERY_BROKER_URL, timeout=timeout),
        }
        if checks["database"]["ok"]:
            checks["worker"] = database_read(
                worker_check, timeout=timeout, max_age=settings.HEALTH_WORKER_MAX_AGE
            )
            checks["outbox"] = database_read(
                outbox_check, timeout=timeout, max_age=settings.HEALTH_OUTBOX_MAX_AGE
            )
        else:
            # Read from the database, which just failed: not asked again (it could hang).
            checks["worker"] = checks["outbox"] = {"ok": False, "error": "database unavailable"}
        failing = sorted(name for name, check in checks.items() if not check["ok"])
        if failing:
            logger.warning("health status: failing %s", ", ".join(failing))
        return Response(
            {"status": "failing" if failing else "ok", "checks": checks},
            status=status.HTTP_503_SERVICE_UNAVAILABLE if failing else status.HTTP_200_OK,
        )


class MetricsView(APIView):
    """GET /metrics: the Prometheus text format (ops.collectors)."""

    authentication_classes = (MetricsTokenAuthentication,)
    permission_classes = (MetricsScrape,)
    # A scraper calls every 15 s or so; its rate is the operator's to set, not the API's.
    throttle_classes = ()
    renderer_classes = (JSONRenderer,)  # for the refusals; the metrics are plain text
    content_negotiation_class = FirstRenderer

    @extend_schema(
        operation_id="metrics",
        summary="Prometheus metrics",
        description="The Prometheus text format (0.0.4). With METRICS_TOKEN set, only for its "
        "bearer (401 otherwise); unset, only for connections from loopback with "
        "DJANGO_NUM_PROXIES at 0 and no proxy's header (X-Forwarded-For, Forwarded, "
        "X-Forwarded-Proto, X-Real-IP; 403 otherwise). The database figures are read within "
        "HEALTH_CHECK_TIMEOUT; unread, telehealth_metrics_database_up is 0. No label carries "
        "an id, a name or any patient data; docs/operations.md lists the metrics.",
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="The metrics, in the Prometheus text format."
            ),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
        },
        # The token when one is set; none from loopback when none is.
        auth=[{"metricsToken": []}, {}],
        tags=TAGS,
    )
    def get(self, request):
        return HttpResponse(metrics_scrape(), content_type=CONTENT_TYPE)
