-- Fixed-shape requests over a pool: introspection (lines "BASIC<TAB>token")
-- or a bearer API call (lines "token"), each request with the next entry, so
-- no single token or connection dominates. Nothing is consumed.
-- env: BENCH_KIND (introspect | bearer), BENCH_METHOD, BENCH_PATH, BENCH_BODY.
package.path = "scripts/wrk/?.lua;" .. package.path
require "common"

function init(args)
  pool = bench.lines(false)
  i = id
  kind, method, path = os.getenv("BENCH_KIND"), os.getenv("BENCH_METHOD"), os.getenv("BENCH_PATH")
  body = os.getenv("BENCH_BODY")
  if body == "" then body = nil end
  want = tonumber(os.getenv("BENCH_STATUS")) or 200
end

function request()
  i = (i % #pool) + 1
  if kind == "introspect" then
    local f = bench.split(pool[i])
    return wrk.format("POST", path, {
      ["Authorization"] = "Basic " .. f[1],
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "token=" .. f[2])
  end
  local h = { ["Authorization"] = "Bearer " .. pool[i], ["Notion-Version"] = "2025-09-03" }
  if body then h["Content-Type"] = "application/json" end
  return wrk.format(method, path, h, body)
end

function response(status, hdrs, b)
  if status ~= want then
    bench.wrong(status)
  elseif kind == "introspect" and not b:find('"active":true', 1, true) then
    bad = bad + 1
  end
end
