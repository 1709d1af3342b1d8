-- kvput.lua — wrk script for C1: every request writes a new key.
--   wrk -t2 -c64 -d10s -s bench/kvput.lua http://HOST:PORT -- wire|etcd
-- wire: PUT /v1/kv/KEY with a 100-byte value; etcd 3.4: POST /v3/kv/put
-- (base64 JSON through its gateway). Prints one RESULT line (writes/s, p50,
-- p99, p99.9, max in ms, non-2xx and socket errors) for bench/cluster.sh.
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

local mode, value, value64, n
function init(args)
  mode = args[1] or "wire"
  value = string.rep("v", 100)
  value64 = b64(value)
  n = 0
end

function request()
  n = n + 1
  local key = "wrk" .. tid .. "_" .. n
  if mode == "etcd" then
    return wrk.format("POST", "/v3/kv/put", { ["Content-Type"] = "application/json" },
      '{"key":"' .. b64(key) .. '","value":"' .. value64 .. '"}')
  end
  return wrk.format("PUT", "/v1/kv/" .. key, nil, value)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT writes_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%d\n",
    (summary.requests - e.status) / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    e.status + e.connect + e.read + e.write + e.timeout))
end
