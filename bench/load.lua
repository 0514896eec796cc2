-- wrk's script for `make bench` (bench/run.py): one request shape, chosen by the environment.
--   METHOD=GET|POST|PUT  TPATH=<path and query>  AUTH="Bearer <token>"
-- POST sends a new patient with an email and phone no other request of the run uses (a
-- random tag for each wrk thread, then a counter); PUT sends a new name each time.
-- Prints one line: RESULT rps=... p50_ms=... p99_ms=... non2xx=... errors=...
local method = os.getenv("METHOD") or "GET"
local path = os.getenv("TPATH")
local headers = {["Authorization"] = os.getenv("AUTH"), ["Content-Type"] = "application/json"}
local counter, tag = 0, 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 1000003)
  tag = math.random(100000, 999999)
end

function request()
  counter = counter + 1
  if method == "POST" then
    return wrk.format("POST", path, headers, string.format(
      '{"name":"Load Test %d","email":"load%d.%d@example.org","phone":"+1%06d%07d"}',
      counter, tag, counter, tag, counter))
  elseif method == "PUT" then
    return wrk.format("PUT", path, headers, string.format('{"name":"Renamed %d"}', counter))
  end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
