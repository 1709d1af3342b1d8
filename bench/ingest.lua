-- ingest.lua — wrk script for W4t: POSTs one NDJSON batch of 100 events of
-- ~200 B per request to an `http` source.
--   wrk -t2 -c8 -d10s -s bench/ingest.lua http[s]://HOST:PORT/
-- Prints one RESULT line (events/s, MB/s, p50, p99, p99.9, max in ms,
-- errors) for bench/w4tls.sh.
-- built at the top: every Lua state (threads and the one done() runs in) has it
local lines = {}
for i = 1, 100 do
  lines[i] = string.format('{"id":%d,"user":"u%d","pad":"%s"}', i, i % 17, string.rep("x", 150))
end
local body = table.concat(lines, "\n") .. "\n"

function init(args)
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-ndjson"
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local ok = summary.requests - e.status
  io.write(string.format(
    "RESULT events_per_s=%.0f mb_per_s=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%d\n",
    ok * 100 / secs, ok * #body / secs / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    e.status + e.connect + e.read + e.write + e.timeout))
end
