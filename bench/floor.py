"""The floor of `make bench`: the least work a WSGI server can do for the API's five measured
paths, with no framework, to divide the project's figures by.

It answers with the same shapes and statuses as the API, over a table of the same columns,
and does nothing else: a constant-time token compare instead of a token lookup, no
validation, no version history, no access record, no outbox row. Its enqueue on POST is one
LPUSH written straight onto a socket to Redis (RESP), the least a Celery publish can cost.

    GET  /patients/<id>            one patient
    GET  /patients                 the first page of 50, oldest first
    GET  /patients?after=<n>       a deep page: the 50 after row number n (an indexed seek)
    POST /patients                 a new patient (201), 409 on a taken email or phone
    PUT  /patients/<id>            a new name

The database is the file or server that FLOOR_DATABASE names (`/path/floor.sqlite3` or
`postgres://...`, psycopg), with its own table; `python bench/floor.py --init N` (re)makes it
with N rows. FLOOR_TOKEN is the bearer token it accepts, REDIS_URL the Redis it pushes to.
Served by bench/run.py under each server setup it compares.
"""

import hmac
import json
import os
import socket
import sqlite3
import sys
import threading
import uuid
from urllib.parse import urlsplit

DATABASE = os.environ.get("FLOOR_DATABASE", "var/bench/floor.sqlite3")
TOKEN = f"Bearer {os.environ.get('FLOOR_TOKEN', 'floor')}".encode()
PAGE = 50
COLUMNS = "id, name, email, phone"
KEYS = ("id", "name", "email", "phone")


class Store:
    """One connection per thread, autocommit, and the five statements."""

    def __init__(self, database: str):
        self.postgres = database.startswith(("postgres://", "postgresql://"))
        # psycopg's placeholders are %s, sqlite3's are ?.
        self.mark = "%s" if self.postgres else "?"
        self.database = database
        self.local = threading.local()

    def connection(self):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            if self.postgres:
                import psycopg

                connection = psycopg.connect(self.database, autocommit=True)
            else:
                connection = sqlite3.connect(self.database, isolation_level=None, timeout=20)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
            self.local.connection = connection
        return connection

    def run(self, sql: str, params=()):
        return self.connection().execute(sql.replace("?", self.mark), params)

    def one(self, patient_id: str):
        return self.run(
            f"SELECT {COLUMNS} FROM floor_patient WHERE id = ?", (patient_id,)
        ).fetchone()

    def page(self, after: int):
        return self.run(
            f"SELECT {COLUMNS} FROM floor_patient WHERE seq > ? ORDER BY seq LIMIT {PAGE}", (after,)
        ).fetchall()

    def insert(self, row: tuple) -> bool:
        unique = (sqlite3.IntegrityError,)
        if self.postgres:
            import psycopg

            unique = (psycopg.errors.UniqueViolation,)
        try:
            self.run("INSERT INTO floor_patient (id, name, email, phone) VALUES (?, ?, ?, ?)", row)
        except unique:
            return False
        return True

    def rename(self, patient_id: str, name: str) -> bool:
        cursor = self.run("UPDATE floor_patient SET name = ? WHERE id = ?", (name, patient_id))
        return cursor.rowcount == 1

    def create(self, rows: int) -> str:
        """(Re)make the table with `rows` patients; returns the id of the middle one."""
        serial = "BIGSERIAL" if self.postgres else "INTEGER"
        self.run("DROP TABLE IF EXISTS floor_patient")
        self.run(
            f"CREATE TABLE floor_patient (seq {serial} PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
            " name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, phone TEXT NOT NULL UNIQUE)"
        )
        values = [
            (str(uuid.uuid4()), f"Floor {n}", f"floor{n}@example.org", f"+1555{n:07d}")
            for n in range(rows)
        ]
        insert = "INSERT INTO floor_patient (id, name, email, phone) VALUES (?, ?, ?, ?)"
        if self.postgres:
            with self.connection().cursor() as cursor:
                cursor.executemany(insert.replace("?", "%s"), values)
        else:
            connection = self.connection()
            connection.execute("BEGIN")
            connection.executemany(insert, values)
            connection.execute("COMMIT")
        return values[rows // 2][0] if values else ""


class Enqueue:
    """LPUSH onto a Redis list over a kept socket, one per thread: a Celery publish's floor."""

    def __init__(self, url: str | None):
        self.address = None
        if url:
            parts = urlsplit(url)
            self.address = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.local = threading.local()

    def __call__(self, message: bytes) -> None:
        if self.address is None:
            return
        sock = getattr(self.local, "sock", None)
        if sock is None:
            sock = self.local.sock = socket.create_connection(self.address)
        sock.sendall(b"*3\r\n$5\r\nLPUSH\r\n$5\r\nfloor\r\n$%d\r\n%s\r\n" % (len(message), message))
        sock.recv(32)  # ":<length>\r\n"


store = Store(DATABASE)
enqueue = Enqueue(os.environ.get("REDIS_URL"))


def _answer(start_response, status: str, body) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def _body(environ) -> dict:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return json.loads(environ["wsgi.input"].read(length) or b"{}")


def application(environ, start_response):
    given = environ.get("HTTP_AUTHORIZATION", "").encode("latin-1")
    if not hmac.compare_digest(given, TOKEN):
        return _answer(start_response, "401 Unauthorized", {"error": "Unauthorized"})
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if path == "/patients":
        if method == "GET":
            query = environ.get("QUERY_STRING", "")
            after = query[6:] if query.startswith("after=") else "0"
            rows = store.page(int(after) if after.isdigit() else 0)
            return _answer(
                start_response, "200 OK", [dict(zip(KEYS, row, strict=True)) for row in rows]
            )
        if method == "POST":
            data = _body(environ)
            patient_id = str(uuid.uuid4())
            if not store.insert((patient_id, data["name"], data["email"], data["phone"])):
                return _answer(start_response, "409 Conflict", {"error": "Patient exists"})
            enqueue(b'{"patient_id": "%s"}' % patient_id.encode())
            return _answer(
                start_response,
                "201 Created",
                {"message": "Patient created successfully", "patient_id": patient_id},
            )
    elif path.startswith("/patients/"):
        patient_id = path[len("/patients/") :]
        if method == "GET":
            row = store.one(patient_id)
            if row is not None:
                return _answer(start_response, "200 OK", dict(zip(KEYS, row, strict=True)))
            return _answer(start_response, "404 Not Found", {"message": "Patient not found"})
        if method == "PUT":
            if store.rename(patient_id, _body(environ).get("name", "")):
                return _answer(
                    start_response, "200 OK", {"message": "Patient updated successfully"}
                )
            return _answer(start_response, "404 Not Found", {"message": "Patient not found"})
    return _answer(start_response, "405 Method Not Allowed", {"error": "Method not allowed"})


if __name__ == "__main__":
    if sys.argv[1:2] != ["--init"] or len(sys.argv) != 3:
        sys.exit("usage: FLOOR_DATABASE=... python bench/floor.py --init ROWS")
    print(store.create(int(sys.argv[2])))
