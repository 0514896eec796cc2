"""A patient as a FHIR R4 Patient resource, and back.

Out: `patient_resource` (for a Patient, or one of its versions from the history). In:
`patient_fields` reads a Patient resource a client sent into the fields the patients'
services take, validated as the REST API validates them.

The mapping (docs/fhir.md has it as a table):
- id and identifier: our UUID (identifier system urn:ietf:rfc:3986, value urn:uuid:<id>).
- name: our one free-text name as HumanName.text. It is not split into given and family:
  a split would guess, and a guess would be wrong for many names. In, the first name that
  is not `use: old`: its text, else its given names and family joined by spaces.
- telecom: the phone (system phone) and the email (system email), rank 1 on the preferred
  channel's, 2 on the other. In, the preferred channel is the one with the lower rank (SMS
  when neither is ranked or both are the same); a telecom with system sms is the phone
  when there is none with system phone.
- birthDate when known; in, a full date (YYYY-MM-DD) or none.
- meta.versionId and meta.lastUpdated: the record's version and its last change.
Elements the service does not keep (gender, address, other telecom systems, extensions,
contained resources) are accepted and not stored, as FHIR allows a server to do; a read
shows what is kept. A modifierExtension anywhere is refused: R4 forbids ignoring one the
receiver does not understand, and this server understands none.
"""

from datetime import UTC, date, datetime

import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.resource import Resource as FhirResource

from fhir_r4.exceptions import NotAPatient, PatientRulesBroken
from fhir_r4.selectors import MAX_VALUES, MAX_VALUES_PER_PARAMETER
from notifications.models import Channel
from patients.serializers import PatientInputSerializer

UUID_SYSTEM = "urn:ietf:rfc:3986"

# Where each of our fields is in a Patient resource (FHIRPath), for the issues of a 422.
FIELD_EXPRESSIONS = {
    "name": "Patient.name",
    "phone": "Patient.telecom.where(system='phone')",
    "email": "Patient.telecom.where(system='email')",
    "preferred_channel": "Patient.telecom.rank",
    "birth_date": "Patient.birthDate",
}
_TELECOM_SYSTEMS = {Channel.SMS: "phone", Channel.EMAIL: "email"}
_CONTACT_FIELDS = {Channel.SMS: "phone", Channel.EMAIL: "email"}


def fhir_instant(moment: datetime) -> str:
    """A datetime as FHIR's instant: ISO 8601 in UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def last_updated(patient) -> datetime:
    """When this patient (or version) was last changed: its `updated_at`, else (a version
    row without one) the time the version was recorded."""
    return getattr(patient, "updated_at", None) or patient.history_date


def patient_resource(patient) -> dict:
    """The FHIR R4 Patient resource of a patient, or of a version of one (a row of
    Patient.history with the same fields). A plain dict, ready for json.dumps."""
    preferred = patient.preferred_channel
    telecom = [
        {
            "system": _TELECOM_SYSTEMS[channel],
            "value": getattr(patient, field),
            "rank": 1 if channel == preferred else 2,
        }
        for channel, field in _CONTACT_FIELDS.items()
    ]
    resource = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": {
            "versionId": str(patient.version),
            "lastUpdated": fhir_instant(last_updated(patient)),
        },
        "identifier": [{"system": UUID_SYSTEM, "value": f"urn:uuid:{patient.id}"}],
        "name": [{"text": patient.name}],
        "telecom": telecom,
    }
    if patient.birth_date is not None:
        resource["birthDate"] = patient.birth_date.isoformat()
    return resource


def _structure_issues(exc: pydantic.ValidationError) -> list[dict]:
    # Without the input values (they may be a patient's details) or the docs' URLs.
    issues = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        # A wrong resourceType is reported at `resource_type`, the model's field for it.
        where = "resourceType" if where == "resource_type" else where
        message = " ".join(str(error["msg"]).split())
        issues.append(
            {
                "code": "structure",
                "diagnostics": f"{where}: {message}" if where else message,
                **({"expression": [f"Patient.{where}"]} if where else {}),
            }
        )
    return issues


def parse_patient(body) -> FhirPatient:
    """The request body as an R4 Patient, or NotAPatient (a 400)."""
    if not isinstance(body, dict):
        raise NotAPatient("The body must be a JSON object: a FHIR Patient resource")
    if body.get("resourceType") != "Patient":
        raise NotAPatient('The body must be a Patient resource ("resourceType": "Patient")')
    _check_contained(body.get("contained"))
    try:
        resource = FhirPatient.model_validate(_without_server_meta(body))
    except pydantic.ValidationError as exc:
        issues = _structure_issues(exc)
        raise NotAPatient("The body is not a valid FHIR R4 Patient", issues=issues) from exc
    # KeyError: fhir.resources' lookup of a resource type it does not know (a contained
    # resource's inside another, which _check_contained does not look into).
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise NotAPatient("The body is not a valid FHIR R4 Patient") from exc
    issues = _code_issues(resource)
    if issues:
        raise NotAPatient(issues[0]["diagnostics"], code="code-invalid", issues=issues)
    _refuse_modifier_extensions(body)
    return resource


def _check_contained(contained) -> None:
    """A 400 unless each contained resource names an R4 resource type: fhir.resources
    would otherwise fail on an unknown one with an error of its own (or take an entry with
    no resourceType as a bare Resource). The contents are left to the validation."""
    if not isinstance(contained, list):
        return  # absent, or not a list: the validation refuses the latter
    for i, entry in enumerate(contained):
        kind = entry.get("resourceType") if isinstance(entry, dict) else None
        if not _is_resource_type(kind):
            where = f"contained[{i}].resourceType"
            raise NotAPatient(
                f"{where}: not an R4 resource type",
                issues=[
                    {
                        "code": "structure",
                        "diagnostics": f"{where}: not an R4 resource type",
                        "expression": [f"Patient.{where}"],
                    }
                ],
            )


def _is_resource_type(kind) -> bool:
    if not (isinstance(kind, str) and kind.isascii() and kind.isidentifier()):
        return False
    if not kind[0].isupper():
        return False
    try:
        model = get_fhir_model_class(kind)
    except (ValueError, KeyError):
        return False
    return issubclass(model, FhirResource)


def _refuse_modifier_extensions(body: dict) -> None:
    """A 400 (not-supported) when any element of the body, the Patient's or a backbone
    element's or a contained resource's, has a modifierExtension: R4 says a receiver SHALL
    NOT ignore one it does not understand, and this server understands none. Walked
    without recursion: the validation accepted the body, but its depth is the client's."""
    pending = [(body, "Patient")]
    while pending:
        node, where = pending.pop()
        if isinstance(node, dict):
            if node.get("modifierExtension"):
                diagnostics = f"{where}.modifierExtension: not supported by this server"
                raise NotAPatient(
                    diagnostics,
                    code="not-supported",
                    issues=[
                        {
                            "code": "not-supported",
                            "diagnostics": diagnostics,
                            "expression": [f"{where}.modifierExtension"],
                        }
                    ],
                )
            pending.extend((value, f"{where}.{key}") for key, value in node.items())
        elif isinstance(node, list):
            pending.extend((value, f"{where}[{i}]") for i, value in enumerate(node))


def _without_server_meta(body: dict) -> dict:
    """The body without the meta.versionId and meta.lastUpdated a client sent: the server
    assigns both (R4's create and update ignore them), so a stale or odd one is not an
    error. A meta that is not an object is left for the validation to refuse."""
    meta = body.get("meta")
    if not isinstance(meta, dict):
        return body
    return {**body, "meta": {k: v for k, v in meta.items() if k not in _SERVER_META}}


_SERVER_META = ("versionId", "lastUpdated")


# The codes R4 allows (required bindings) in the elements read here; fhir.resources checks
# the elements' types but not these value sets.
_NAME_USES = frozenset({"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"})
_TELECOM_SYSTEMS_ALL = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
_TELECOM_USES = frozenset({"home", "work", "temp", "old", "mobile"})


def _code_issues(resource: FhirPatient) -> list[dict]:
    checks = [
        (f"name[{i}].use", name.use, _NAME_USES) for i, name in enumerate(resource.name or [])
    ]
    for i, point in enumerate(resource.telecom or []):
        checks.append((f"telecom[{i}].system", point.system, _TELECOM_SYSTEMS_ALL))
        checks.append((f"telecom[{i}].use", point.use, _TELECOM_USES))
    return [
        {
            "code": "code-invalid",
            "diagnostics": f"{where}: not one of {', '.join(sorted(allowed))}",
            "expression": [f"Patient.{where}"],
        }
        for where, value, allowed in checks
        if value is not None and value not in allowed
    ]


def _current(entries) -> list:
    # A name or contact point marked `old` is one the patient no longer uses.
    return [entry for entry in entries or [] if entry.use != "old"]


def _name(resource: FhirPatient) -> str | None:
    names = _current(resource.name)
    if not names:
        return None
    name = names[0]
    if name.text:
        return name.text
    # A given name may be null in JSON (its extension in `_given` stands for it).
    parts = [part for part in [*(name.given or []), name.family] if part]
    return " ".join(parts) or None


def _contacts(resource: FhirPatient) -> dict:
    """Our phone and email and the preferred channel, from the telecom entries."""
    by_channel = {}
    for channel, system in _TELECOM_SYSTEMS.items():
        points = [p for p in _current(resource.telecom) if p.system == system and p.value]
        if not points and system == "phone":
            # R4's sms is a phone that takes texts: the phone when none is system phone.
            points = [p for p in _current(resource.telecom) if p.system == "sms" and p.value]
        if len(points) > 1:
            field = _CONTACT_FIELDS[channel]
            raise PatientRulesBroken(
                f"A patient has one {field}: send one telecom with system {system}",
                issues=[
                    {
                        "code": "business-rule",
                        "diagnostics": f"A patient has one {field}: send one telecom "
                        f"with system {system}",
                        "expression": [FIELD_EXPRESSIONS[field]],
                    }
                ],
            )
        if points:
            by_channel[channel] = points[0]
    fields = {_CONTACT_FIELDS[channel]: point.value for channel, point in by_channel.items()}
    ranks = {channel: point.rank for channel, point in by_channel.items() if point.rank is not None}
    preferred = Channel.SMS
    if ranks:
        # The lowest rank wins, and a ranked contact point beats an unranked one (FHIR's
        # ContactPoint.rank); a tie falls to SMS, the default.
        preferred = min(ranks, key=lambda channel: (ranks[channel], channel != Channel.SMS))
    fields["preferred_channel"] = preferred
    return fields


def _rules_issues(errors: dict) -> list[dict]:
    issues = []
    for field, messages in errors.items():
        for message in messages:
            missing = getattr(message, "code", None) in ("required", "blank", "null")
            issue = {"code": "required" if missing else "value", "diagnostics": str(message)}
            if field in FIELD_EXPRESSIONS:
                issue["expression"] = [FIELD_EXPRESSIONS[field]]
            issues.append(issue)
    return issues


def patient_fields(resource: FhirPatient) -> dict:
    """The fields for patient_create or patient_update from a Patient resource, as the REST
    API's serializer validates and normalizes them. An element left out is absent from the
    result (birth_date is None): callers replacing a record pass them all. Raises
    PatientRulesBroken (a 422) when our rules refuse the details, with one issue a field."""
    data = {"name": _name(resource), **_contacts(resource)}
    data = {field: value for field, value in data.items() if value is not None}
    birth_date = resource.birthDate
    if isinstance(birth_date, date):
        data["birth_date"] = birth_date.isoformat()
    elif birth_date is not None:  # a year or a year and month: valid FHIR, not enough here
        data["birth_date"] = str(birth_date)
    serializer = PatientInputSerializer(data=data)
    if not serializer.is_valid():
        issues = _rules_issues(serializer.errors)
        first = issues[0]["diagnostics"] if issues else "The patient's details break our rules"
        raise PatientRulesBroken(first, issues=issues)
    fields = dict(serializer.validated_data)
    fields.setdefault("birth_date", None)
    return fields


# What a version's history_type (django-simple-history's) was, as a FHIR interaction.
_VERSION_REQUESTS = {"+": ("POST", "201 Created"), "~": ("PUT", "200 OK"), "-": ("DELETE", "204")}


def history_entry(version, *, full_url: str) -> dict:
    """One entry of a history Bundle: the version's resource (none for a deletion, nor for a
    version whose details the retention purge erased), the interaction that made it and
    its outcome. A patient restored by staff is a PUT that created the record again."""
    method, outcome = _VERSION_REQUESTS[version.history_type]
    if version.history_type == "+" and version.history_change_reason == "restored":
        method = "PUT"
    entry = {"fullUrl": full_url}
    if version.history_type != "-" and version.erased_at is None:
        entry["resource"] = patient_resource(version)
    entry["request"] = {
        "method": method,
        "url": "Patient" if method == "POST" else f"Patient/{version.id}",
    }
    entry["response"] = {
        "status": outcome,
        "etag": f'W/"{version.version}"',
        "lastModified": fhir_instant(version.history_date),
    }
    return entry


BULK_DATA_CAPABILITIES = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
PATIENT_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
# When this statement last changed (CapabilityStatement.date): change it with the API.
CAPABILITIES_DATE = "2026-11-25"
_DEFINITIONS = "http://hl7.org/fhir/SearchParameter/"
SEARCH_PARAMS = [
    {
        "name": "name",
        "definition": f"{_DEFINITIONS}Patient-name",
        "type": "string",
        "documentation": (
            "Any part of the name starts with the value; :contains, :exact. A search "
            f"takes at most {MAX_VALUES_PER_PARAMETER} values a parameter and {MAX_VALUES} "
            "in all (each comma-separated alternative counts); more is a 400 too-costly."
        ),
    },
    {
        "name": "email",
        "definition": f"{_DEFINITIONS}individual-email",
        "type": "token",
        "documentation": "The email address, in any spelling that normalizes to the stored one.",
    },
    {
        "name": "phone",
        "definition": f"{_DEFINITIONS}individual-phone",
        "type": "token",
        "documentation": "The phone number, separators ignored.",
    },
    {
        "name": "birthdate",
        "definition": f"{_DEFINITIONS}individual-birthdate",
        "type": "date",
        "documentation": "A date, year-month or year; prefixes eq, ne, lt, le, gt, ge.",
    },
    {
        "name": "_id",
        "definition": f"{_DEFINITIONS}Resource-id",
        "type": "token",
        "documentation": "The patient's id, exactly.",
    },
    {
        "name": "identifier",
        "definition": f"{_DEFINITIONS}Patient-identifier",
        "type": "token",
        "documentation": "urn:uuid:<id>, with or without the system urn:ietf:rfc:3986.",
    },
    {
        "name": "_count",
        "type": "number",
        "documentation": "Page size: 50 by default, at most 500; 0 for the total only.",
    },
]


def capability_statement(*, base_url: str, login_url: str) -> dict:
    """This server's CapabilityStatement (`GET /fhir/metadata`)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITIES_DATE,
        "kind": "instance",
        "instantiates": [BULK_DATA_CAPABILITIES],
        "implementation": {
            "description": "Telehealth patient records: FHIR R4 Patient API",
            "url": base_url,
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [{"text": "Bearer token"}],
                    "description": (
                        "Send `Authorization: Bearer <token>`. Get a token from "
                        f"POST {login_url} (username and password, and a TOTP code when "
                        "the account has a second factor), or from an administrator "
                        "(the issue_token command). Only /metadata needs none."
                    ),
                },
                "resource": [
                    {
                        "type": "Patient",
                        "profile": "http://hl7.org/fhir/StructureDefinition/Patient",
                        "interaction": [
                            {"code": code}
                            for code in (
                                "read",
                                "vread",
                                "update",
                                "create",
                                "search-type",
                                "history-instance",
                            )
                        ],
                        "versioning": "versioned-update",
                        "readHistory": True,
                        "updateCreate": False,
                        "conditionalCreate": False,
                        "conditionalRead": "not-supported",
                        "conditionalUpdate": False,
                        "conditionalDelete": "not-supported",
                        "searchParam": SEARCH_PARAMS,
                        "operation": [{"name": "export", "definition": PATIENT_EXPORT}],
                    }
                ],
            }
        ],
    }
