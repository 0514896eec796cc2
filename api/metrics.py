"""The service's Prometheus metrics that count events as they happen, in the process they
happen in: requests (ops.middleware) and logins (accounts.services). `GET /metrics` (ops)
serves them with the figures it reads from the database at scrape time.

Here, at the bottom of the apps, so any app can count without importing the one that serves.

With PROMETHEUS_MULTIPROC_DIR set in the environment before the first import of
prometheus_client, each process writes its values to files in that directory and a scrape sums
every process's (prometheus_client's multiprocess mode); without it they live in this process.
Counters and histograms only: they sum correctly across processes, live or dead.

No label carries an id, a name or anything a client typed: a route is its URL pattern, never
the path, and every other label has a fixed, short set of values.
"""

from prometheus_client import Counter, Histogram

# Request latencies, in seconds: from a cached read to a slow write or export page.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter(
    "telehealth_http_requests",
    "Requests answered, by URL pattern, method and status.",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "telehealth_http_request_duration_seconds",
    "Time to answer a request (the application's part), by URL pattern, method and status.",
    ["route", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)

LOGIN_FAILURES = Counter(
    "telehealth_login_failures",
    "Failed logins (a wrong password or second factor) at /auth/login and the session logins.",
)
LOGIN_LOCKOUTS = Counter(
    "telehealth_login_lockouts",
    "Client addresses locked out by a failed login reaching a limit: `address` for "
    "LOGIN_LOCKOUT_IP_FAILURES (any usernames), `username` for LOGIN_LOCKOUT_USER_FAILURES.",
    ["scope"],
)
LOGIN_REFUSALS = Counter(
    "telehealth_login_refusals",
    "Login attempts refused without a password check because their address was locked out.",
)
for _scope in ("address", "username"):
    LOGIN_LOCKOUTS.labels(scope=_scope)  # both series from the start, at 0
