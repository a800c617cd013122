-- Fixed-shape requests over a pool: introspection (lines "BASIC<TAB>token"),
-- a bearer API call (lines "token") or an MCP tool call (lines
-- "token<TAB>page", `%PAGE%` in the body replaced), each request with the
-- next entry, so no single token or connection dominates. Nothing is consumed.
-- env: BENCH_KIND (introspect | bearer | mcp), BENCH_METHOD, BENCH_PATH, BENCH_BODY.
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
  if kind == "mcp" then
    local f = bench.split(pool[i])
    return wrk.format("POST", path, {
      ["Authorization"] = "Bearer " .. f[1],
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["MCP-Protocol-Version"] = "2025-11-25",
    }, (body:gsub("%%PAGE%%", f[2])))
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
  elseif kind == "mcp" and (b:find('"isError":true', 1, true) or not b:find('"result"', 1, true)) then
    bad = bad + 1
  end
end
