"""What every log line shares: the request id it belongs to, and text that cannot forge a line.

Needs nothing of Django, so the web server's and Celery's own logging can use it too.
"""

import logging
import re
import uuid
from contextvars import ContextVar

# The id of the request being served in this thread ("-" outside a request). Set by
# api.middleware.RequestIdMiddleware and by the web server's front (api.serving).
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# An incoming X-Request-ID (from the proxy, or a client) is kept only if it cannot carry
# anything but an id: no spaces, no control characters, nothing long.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# C0 and C1 controls (\n, \r, \x1b, NEL, ...), DEL, the Unicode line and paragraph separators,
# and the bidirectional overrides and isolates, which reorder what a terminal shows.
_OTHERS = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHERS}]")


# PostgreSQL's errors quote the values of the row they refused (a duplicate email, a row that
# fails a check), and an exception's message ends up in a traceback in the log.
_DATABASE_VALUES = (
    # The rest of the line after "Key (email)=(": a value may hold parentheses itself.
    (re.compile(r"Key \((.*?)\)=\([^\n]*"), r"Key (\1)=(…)"),
    (re.compile(r"Failing row contains \([^\n]*"), "Failing row contains (…)"),
)


def _without_database_values(text: str) -> str:
    for pattern, replacement in _DATABASE_VALUES:
        text = pattern.sub(replacement, text)
    return text


def request_id_forget(**kwargs) -> None:
    """At the end of a request (Django's request_finished): later lines are outside it."""
    request_id_var.set("-")


def request_id_from(value: str | None) -> str:
    """The request's id: the one it came with if that is safe to log, else a new one."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _escaped(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")  # "\n", "\x1b", "\u2028"


def escape_log_text(text: str) -> str:
    """The text on one line, with every control character written as its escape (and no
    values quoted from a refused database row)."""
    return _UNSAFE.sub(_escaped, _without_database_values(text))


def _escape_block(text: str) -> str:
    """A traceback keeps its lines, each indented: a line that starts at the left margin is
    always the start of a record, so an exception's message cannot pass for one."""
    text = _UNSAFE_BUT_NEWLINE.sub(_escaped, _without_database_values(text))
    return "\n".join("    " + line for line in text.split("\n"))


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` (for `%(request_id)s`), unless it brought its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class EscapingFormatter(logging.Formatter):
    """A Formatter whose message is always one line with its control characters escaped, so no
    input written to a log (a path, a header, a name) can forge a line or drive the terminal.
    Tracebacks keep their lines (indented, and escaped but for the line breaks)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_log_text(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        return _escape_block(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _escape_block(super().formatStack(stack_info))


class EscapingWrapper(logging.Formatter):
    """Escapes as EscapingFormatter does, for a formatter configured elsewhere (Celery's, in
    the workers): it formats a copy of each record whose message and traceback are escaped."""

    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg, safe.args = escape_log_text(record.getMessage()), None
        if record.exc_info:
            safe.exc_text = _escape_block(super().formatException(record.exc_info))
        if record.stack_info:
            safe.stack_info = _escape_block(record.stack_info)
        return self.inner.format(safe)
