"""The access audit over the API: GET /audit, for auditors."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView

from api.exceptions import validated
from api.pagination import LinkHeaderCursorPagination
from api.schema import BAD_REQUEST, LINK, PAGE_PARAMETERS, query_parameter, trimmed_text
from audit.models import AccessRecord
from audit.permissions import CanViewAccessRecords
from audit.selectors import NEWEST_FIRST, access_records
from audit.serializers import AccessRecordQuerySerializer, AccessRecordSerializer


class AccessRecordListView(GenericAPIView):
    """Who read or wrote which patients' data, newest first.

    Reading the audit is not itself recorded: it shows patient ids and no patient data, and
    recording it would put every auditor's look at a patient's trail into that trail.
    """

    # For the browsable API's page only; reads go through the selector.
    queryset = AccessRecord.objects.none()
    permission_classes = [CanViewAccessRecords]
    pagination_class = LinkHeaderCursorPagination
    pagination_ordering = NEWEST_FIRST
    serializer_class = AccessRecordSerializer

    @extend_schema(
        operation_id="audit_list",
        parameters=[
            query_parameter(
                "patient", OpenApiTypes.UUID, "A patient's id: the records naming them."
            ),
            query_parameter(
                "user",
                {"type": "string", "pattern": trimmed_text(150, blank=False)},
                "A username (a deleted user's too) or a user's id: their records.",
            ),
            query_parameter(
                "since",
                OpenApiTypes.DATETIME,
                "An ISO 8601 time with `Z` or an offset: the records from then on.",
            ),
            *PAGE_PARAMETERS,
            LINK,
        ],
        responses={200: AccessRecordSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request):
        params = validated(AccessRecordQuerySerializer(data=request.query_params))
        records = access_records(
            patient_id=params.get("patient"), user=params.get("user"), since=params.get("since")
        )
        page = self.paginate_queryset(records)
        return self.get_paginated_response(AccessRecordSerializer(page, many=True).data)
