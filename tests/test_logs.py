"""Logs: each line carries the id of the request it was written for, which the client gets in
`X-Request-ID`; no input can forge a line or send terminal escapes; no line holds a query
string or a token. The web server's access log is tried in tests/test_serving.py."""

import io
import logging
import re

import pytest
from celery.utils.log import ColorFormatter
from django.conf import settings

from api.logging import EscapingFormatter, RequestIdFilter
from telehealth.celery import _escape_worker_logs

FORGED = "search done\n2026-01-01 00:00:00,000 INFO api [-] forged line \x1b[31mred\r\u2028end"
TOKEN = "f" * 64


def _handler(formatter: logging.Formatter | None = None) -> tuple[logging.Handler, io.StringIO]:
    """A handler as LOGGING configures them (its formatter and filter), writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        formatter or EscapingFormatter("%(asctime)s %(levelname)s [%(request_id)s] %(message)s")
    )
    handler.addFilter(RequestIdFilter())
    return handler, stream


@pytest.fixture
def captured():
    """What the django.request logger (4xx and 5xx answers) writes while a test runs."""
    handler, stream = _handler()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_every_handler_in_logging_escapes_and_carries_the_request_id():
    formatters = settings.LOGGING["formatters"]
    for name, handler in settings.LOGGING["handlers"].items():
        assert formatters[handler["formatter"]]["()"] == "api.logging.EscapingFormatter", name
        assert "%(request_id)s" in formatters[handler["formatter"]]["format"], name
        assert "request_id" in handler["filters"], name
    assert any(
        isinstance(handler.formatter, EscapingFormatter) for handler in logging.getLogger().handlers
    )


def test_a_message_with_line_breaks_and_escapes_stays_on_one_escaped_line():
    handler, stream = _handler()
    logger = logging.getLogger("tests.forgery")
    logger.addHandler(handler)
    try:
        logger.warning("patient search for %s", FORGED)
    finally:
        logger.removeHandler(handler)

    output = stream.getvalue()
    assert output.count("\n") == 1  # one line, its own end
    assert output.endswith("\n")
    assert not any(char in output for char in "\x1b\r\u2028")
    assert "done\\n2026-01-01 00:00:00,000 INFO api [-] forged line \\x1b[31mred\\r\\u2028end" in (
        output
    )


def test_a_traceback_keeps_its_lines_yet_its_message_cannot_start_a_line():
    handler, stream = _handler()
    logger = logging.getLogger("tests.forgery")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(FORGED)
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)

    lines = stream.getvalue().splitlines()
    assert "failed" in lines[0]
    assert lines[1] == "    Traceback (most recent call last):"
    assert all(line.startswith("    ") for line in lines[1:])  # only lines[0] is a record
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert "\x1b" not in stream.getvalue()
    assert "\\x1b[31mred" in stream.getvalue()


def test_a_database_error_logged_with_its_traceback_names_no_value_of_the_refused_row():
    handler, stream = _handler()
    logger = logging.getLogger("tests.database")
    logger.addHandler(handler)
    try:
        try:  # what PostgreSQL says of a duplicate or a failed check
            raise ValueError(
                'duplicate key value violates unique constraint "patient_email"\n'
                "DETAIL:  Key (lower(email))=(john(x)@example.com) already exists.\n"
                "DETAIL:  Failing row contains (1, John Doe, +15551234567)."
            )
        except ValueError as exc:
            logger.exception("refused: %s", exc)
    finally:
        logger.removeHandler(handler)

    output = stream.getvalue()
    assert "Key (lower(email))=(…)" in output
    assert "Failing row contains (…)" in output
    assert not any(value in output for value in ("john", "John Doe", "5551234567"))


def test_celery_workers_log_lines_are_escaped_too():
    """Workers keep Celery's own format and handlers; these escape as LOGGING's do."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ColorFormatter("[%(levelname)s/%(processName)s] %(message)s", False))
    logger = logging.getLogger("tests.worker")
    logger.addHandler(handler)
    _escape_worker_logs(logger=logger)
    try:
        logger.warning("[sms] notification 1: Hi %s", FORGED)
    finally:
        logger.removeHandler(handler)

    output = stream.getvalue()
    assert output.startswith("[WARNING/MainProcess] [sms] notification 1: Hi search done\\n2026")
    assert output.count("\n") == 1
    assert "\x1b" not in output


def test_each_answer_has_a_new_request_id(anonymous):
    first = anonymous.get("/")
    second = anonymous.get("/")

    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_safe_request_id_from_the_proxy_is_kept(anonymous):
    response = anonymous.get("/", HTTP_X_REQUEST_ID="lb-4f2a.9_x")

    assert response["X-Request-ID"] == "lb-4f2a.9_x"


@pytest.mark.parametrize(
    "given", ["two words", "x" * 65, "id\n2026-01-01 INFO forged", "<script>", "ünïcode"]
)
def test_an_unsafe_request_id_is_replaced(anonymous, given):
    response = anonymous.get("/", HTTP_X_REQUEST_ID=given)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_lines_logged_for_a_request_carry_its_id_and_neither_query_nor_token(anonymous, captured):
    response = anonymous.get("/patients?search=John+Doe", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    output = captured.getvalue()
    assert response.status_code == 401
    assert f"[{response['X-Request-ID']}] Unauthorized: /patients" in output
    assert "John" not in output
    assert TOKEN not in output


@pytest.mark.django_db
def test_lines_logged_outside_a_request_say_so(anonymous, captured):
    anonymous.get("/patients")  # a request, logged, then finished
    logging.getLogger("django.request").warning("after the request")

    assert "[-] after the request" in captured.getvalue()
