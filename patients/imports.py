"""Reading patients from files for `manage.py import_patients`: a CSV (what export_patients
writes, or a spreadsheet's), NDJSON (one JSON object a line) or the original service's SQLite
database. Each row is checked by the API's own input serializer and the model's validators,
so a file can put in nothing the API would refuse. Writing is patients.services'."""

import contextlib
import csv
import io
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from patients.models import EDITABLE_FIELDS, Patient
from patients.serializers import PatientInputSerializer
from patients.services import ImportOutcome, ImportRow, Outcome

FORMATS = ("csv", "ndjson", "sqlite")

# A patient's row is a few hundred bytes; a line this long is not one, and reading it whole
# would let one line of a malformed file take all the memory.
MAX_LINE_BYTES = 64 * 1024

# Columns of the export (and keys of its NDJSON) that an import does not take: the database
# sets them.
IGNORED_COLUMNS = frozenset({"version", "created_at", "updated_at"})
KNOWN_COLUMNS = frozenset({"id", *EDITABLE_FIELDS}) | IGNORED_COLUMNS
REQUIRED_COLUMNS = ("name", "phone", "email")
_BOOLEAN_COLUMNS = frozenset({"sms_opt_out", "email_opt_out"})
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}

# export_patients puts a quote before a cell a spreadsheet would run as a formula (a phone's
# "+1555..." among them), and one more before a cell of quotes and then such a character; the
# import takes exactly that one quote off again.
_FORMULA_STARTS = frozenset("=+-@\t\r")

_SQLITE_MAGIC = b"SQLite format 3\x00"


class ImportFileError(Exception):
    """The file as a whole cannot be imported (its format, its header, a line too long)."""


@dataclass(frozen=True)
class RawRow:
    """A row as the file had it: its line (a CSV row's first line; the original database's
    rowid), and its fields, or why it has none."""

    line: int
    data: dict | None
    error: str = ""


def detect_format(path: Path) -> str:
    """The file's format: a SQLite database by its header, NDJSON by its extension or its
    first character, CSV otherwise."""
    with path.open("rb") as file:
        start = file.read(len(_SQLITE_MAGIC))
    if start == _SQLITE_MAGIC:
        return "sqlite"
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        return "ndjson"
    if path.suffix.lower() == ".csv":
        return "csv"
    return "ndjson" if start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def count_rows(path: Path, file_format: str) -> int:
    """How many rows the file holds (for the progress bar). Reading it all first also
    refuses, before anything changes, a file whose structure is broken: a line longer than
    MAX_LINE_BYTES, a CSV that does not parse (a quote never closed, which would swallow
    every row after it), a database that cannot be read."""
    if file_format == "sqlite":
        try:
            with contextlib.closing(_open_original(path)) as database:
                return database.execute("SELECT count(*) FROM patient").fetchone()[0]
        except sqlite3.Error as exc:
            raise ImportFileError(f"cannot read the database: {exc}") from None
    lines = _check_line_lengths(path)
    if file_format == "csv":
        return sum(1 for _ in _csv_rows(path))
    return lines


def _check_line_lengths(path: Path) -> int:
    lines = 0
    run = 0  # bytes since the last newline
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            start = 0
            while (end := chunk.find(b"\n", start)) != -1:
                if run + end - start > MAX_LINE_BYTES:
                    raise _too_long(lines + 1)
                lines += 1
                run = 0
                start = end + 1
            run += len(chunk) - start
            if run > MAX_LINE_BYTES:
                raise _too_long(lines + 1)
    return lines + (run > 0)


def _too_long(line: int) -> ImportFileError:
    return ImportFileError(
        f"line {line} is longer than {MAX_LINE_BYTES:,} bytes: not a patient's row"
    )


def read_rows(path: Path, file_format: str) -> Iterator[RawRow]:
    """The file's rows in order. Raises ImportFileError for a file it cannot read at all."""
    if file_format == "csv":
        return _csv_rows(path)
    if file_format == "ndjson":
        return _ndjson_rows(path)
    return _original_rows(path)


def _lines(file) -> Iterator[tuple[int, str]]:
    # Bytes that are not UTF-8 stay as lone surrogates ("surrogateescape"), so that they
    # spoil their row only (RowValidator refuses them) and a CSV's quotes still parse.
    for number, raw in enumerate(file, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a spreadsheet's byte order mark
            raw = raw[3:]
        yield number, raw.decode("utf-8", "surrogateescape")


def _csv_rows(path: Path) -> Iterator[RawRow]:
    # The header is read here, not when the rows are first asked for, so that a file with a
    # wrong one is refused before anything (the report among it) is written.
    file = path.open("rb")
    # strict: a quote never closed is an error, not a cell that takes in the rest of the file.
    reader = csv.reader((line for _, line in _lines(file)), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("the file is empty: a CSV needs a header row")
        if any(map(_undecodable, header)):
            raise ImportFileError("the header is not UTF-8 text")
        columns = _columns(header)
    except csv.Error as exc:
        file.close()
        raise ImportFileError(f"line 1: {exc}") from None
    except BaseException:
        file.close()
        raise
    return _csv_body(file, reader, columns)


def _csv_body(file, reader, columns: list[str]) -> Iterator[RawRow]:
    line = reader.line_num + 1
    with file:
        try:
            for cells in reader:
                first, line = line, reader.line_num + 1
                if not cells or cells == [""]:
                    continue
                if any(map(_undecodable, cells)):
                    yield RawRow(first, None, "the row is not UTF-8 text")
                elif len(cells) != len(columns):
                    yield RawRow(
                        first,
                        None,
                        f"the row has {len(cells)} cells and the header {len(columns)}",
                    )
                else:
                    yield _csv_row(first, columns, cells)
        except csv.Error as exc:
            raise ImportFileError(f"line {line}: {exc}") from None


# A header cell that could be a column's name; anything else is not repeated in an error,
# since a file without a header has a patient's details on its first line.
_COLUMN_NAME = re.compile(r"[a-z_]{1,40}")


def _columns(header: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    unknown = [column for column in columns if column not in KNOWN_COLUMNS]
    known = ", ".join(["id", *EDITABLE_FIELDS])
    if unknown and all(_COLUMN_NAME.fullmatch(column) for column in unknown):
        raise ImportFileError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are {known}"
        )
    if unknown:
        raise ImportFileError(f"the first line is not a header; the columns are {known}")
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise ImportFileError(f"column(s) {', '.join(map(repr, repeated))} appear twice")
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ImportFileError(f"no {', '.join(map(repr, missing))} column")
    return columns


def _csv_row(line: int, columns: list[str], cells: list[str]) -> RawRow:
    data: dict = {}
    for column, cell in zip(columns, cells, strict=True):
        if column in IGNORED_COLUMNS:
            continue
        if cell[:1] == "'" and cell.lstrip("'")[:1] in _FORMULA_STARTS and cell.lstrip("'"):
            cell = cell[1:]
        if column in _BOOLEAN_COLUMNS:
            if cell == "":
                continue
            if cell.strip().lower() not in _BOOLEANS:
                return RawRow(line, None, f"{column}: must be true or false")
            data[column] = _BOOLEANS[cell.strip().lower()]
        elif column in ("id", "preferred_channel", "birth_date") and cell == "":
            continue  # a blank optional cell: the default
        else:
            data[column] = cell
    return RawRow(line, data)


def _ndjson_rows(path: Path) -> Iterator[RawRow]:
    with path.open("rb") as file:
        for line, text in _lines(file):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                yield RawRow(line, None, "the line is not a JSON object")
                continue
            if not isinstance(data, dict):
                yield RawRow(line, None, "the line is not a JSON object")
                continue
            unknown = sorted(key for key in data if key not in KNOWN_COLUMNS)
            if unknown:
                yield RawRow(line, None, f"unknown field(s) {', '.join(map(repr, unknown))}")
                continue
            for key in IGNORED_COLUMNS:
                data.pop(key, None)
            if data.get("id") is None:
                data.pop("id", None)
            yield RawRow(line, data)


def _open_original(path: Path) -> sqlite3.Connection:
    # Read-only, so that importing from the original's live database cannot change it.
    database = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    # Text that is not UTF-8 spoils its row, not the whole read.
    database.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    try:
        columns = {row[1] for row in database.execute("PRAGMA table_info(patient)")}
    except sqlite3.Error as exc:
        database.close()
        raise ImportFileError(f"not a readable SQLite database: {exc}") from None
    if not {"id", "name", "email", "phone"} <= columns:
        database.close()
        raise ImportFileError(
            "the database has no patient table with id, name, email and phone columns "
            "(the original service's)"
        )
    return database


def _original_rows(path: Path, page: int = 1000) -> Iterator[RawRow]:
    # A page at a time, each its own short read: one query held open for the whole import
    # would keep the original's writers out all along, if it still runs (a rollback journal
    # lets no one commit while anyone reads).
    after = 0
    with contextlib.closing(_open_original(path)) as database:
        while True:
            try:
                rows = database.execute(
                    "SELECT rowid, id, name, email, phone FROM patient WHERE rowid > ? "
                    "ORDER BY rowid LIMIT ?",
                    (after, page),
                ).fetchall()
            except sqlite3.Error as exc:
                raise ImportFileError(f"cannot read the database: {exc}") from None
            if not rows:
                return
            for rowid, patient_id, name, email, phone in rows:
                data = {"name": name, "email": email, "phone": phone}
                if patient_id is not None:
                    data["id"] = patient_id
                yield RawRow(rowid, data)
            after = rows[-1][0]


class RowValidator:
    """Checks rows as the API checks a POST's body, then as the model does."""

    def __init__(self):
        # One serializer for every row: building its fields is most of what a fresh one
        # costs, and a hundred thousand rows would pay for it each time.
        self._serializer = PatientInputSerializer()

    def check(self, row: RawRow) -> ImportRow | ImportOutcome:
        if row.data is None:
            return ImportOutcome(row.line, Outcome.INVALID, row.error)
        data = dict(row.data)
        if any(_undecodable(value) for value in data.values()):
            return ImportOutcome(row.line, Outcome.INVALID, "the row is not UTF-8 text")
        patient_id = None
        if "id" in data:
            patient_id = _uuid(data.pop("id"))
            if patient_id is None:
                return ImportOutcome(row.line, Outcome.INVALID, "id: must be a UUID")
        self._serializer.initial_data = data  # what its boolean fields look at
        try:
            values = self._serializer.run_validation(data)
        except ValidationError as exc:
            return ImportOutcome(row.line, Outcome.INVALID, _first_error(exc.detail))
        try:
            Patient(**values).full_clean(
                exclude=["id"], validate_unique=False, validate_constraints=False
            )
        except DjangoValidationError as exc:
            return ImportOutcome(row.line, Outcome.INVALID, _first_error(exc.message_dict))
        return ImportRow(row.line, dict(values), patient_id)


def _undecodable(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _uuid(value) -> uuid.UUID | None:
    # The original stored str(uuid4()); other spellings of a UUID are taken too.
    if not isinstance(value, str) or len(value) > 45:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def _first_error(detail) -> str:
    """The first field's first message, as "field: message", in the API's order of checks."""
    if isinstance(detail, dict):
        for field in (*EDITABLE_FIELDS, *detail):
            if field in detail:
                messages = detail[field]
                message = messages[0] if isinstance(messages, list) else messages
                prefix = "" if field == "non_field_errors" else f"{field}: "
                return f"{prefix}{_first_error(message)}"
    if isinstance(detail, list) and detail:
        return _first_error(detail[0])
    return str(detail)


def report_writer(stream: io.TextIOBase):
    """A CSV writer of outcomes to the report, with its header written."""
    writer = csv.writer(stream)
    writer.writerow(["line", "outcome", "patient_id", "reason"])
    return writer
