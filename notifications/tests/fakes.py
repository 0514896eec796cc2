"""Real servers on loopback that stand in for the outside world: an SMS gateway that speaks
Twilio's Messages API and an SMTP server (aiosmtpd). Both honour idempotency keys, as the
real ones are asked to, and record what they delivered."""

import base64
import json
import threading
import time
from collections import Counter
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

from scripts.redis_server import free_port

SMS_ACCOUNT = "AC-test"
SMS_SECRET = "test-secret"


class SmsGateway:
    """A Twilio-compatible gateway on 127.0.0.1.

    `fail_next(status, times)` answers the next requests with an error; `delay` holds each
    request that long before answering (after it was delivered: a sender killed meanwhile
    has sent it). A request repeating an `Idempotency-Key` already delivered gets the same
    answer and is not delivered again.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.delivered: dict[str, dict] = {}  # idempotency key -> the form it carried
        self.requests: Counter = Counter()  # idempotency key -> requests received
        self.failures: list[int] = []
        self.delay = 0.0
        self.received = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                gateway._handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def fail_next(self, status: int, times: int = 1) -> None:
        with self.lock:
            self.failures.extend([status] * times)

    def total_requests(self) -> int:
        with self.lock:
            return sum(self.requests.values())

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        expected = "Basic " + base64.b64encode(f"{SMS_ACCOUNT}:{SMS_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return self._answer(request, 401, {"code": 20003, "message": "Authenticate"})
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        key = request.headers.get("Idempotency-Key", "")
        with self.lock:
            self.requests[key] += 1
            failure = self.failures.pop(0) if self.failures else None
            if failure is None and key not in self.delivered:
                self.delivered[key] = form
        self.received.set()
        if failure is not None:
            return self._answer(request, failure, {"code": 30000 + failure, "message": "no"})
        if self.delay:
            time.sleep(self.delay)
        self._answer(request, 201, {"sid": f"SM{key.replace('-', '')}", "status": "queued"})

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the sender is gone (killed mid-request)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpServer:
    """aiosmtpd on 127.0.0.1, delivering each Message-ID once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.delivered: dict[str, object] = {}  # Message-ID -> the parsed message
        self.received: Counter = Counter()  # Message-ID -> times received
        self.reject_with: str | None = None  # e.g. "550 5.1.1 mailbox unavailable"
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_with:
            return self.reject_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        message_id = message["Message-ID"]
        with self.lock:
            self.received[message_id] += 1
            self.delivered.setdefault(message_id, message)
        return "250 Message accepted for delivery"

    def close(self) -> None:
        self.controller.stop()
