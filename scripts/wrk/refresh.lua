-- Refresh rotation over many parallel families: each connection takes its
-- slice of the pool (one refresh token per family) and rotates the families
-- in turn; every response carries the successor the family's next request
-- uses. BENCH_STATE_OUT gets the live token of each family, minus the one
-- whose request was in flight when wrk stopped (its successor is unknown);
-- BENCH_USED gets the first tokens it rotated (for the replay check).
-- env: BENCH_PATH, BENCH_BASIC.
package.path = "scripts/wrk/?.lua;" .. package.path
require "common"

function init(args)
  tokens, slot, pending, used = bench.lines(true), 0, nil, {}
  path = os.getenv("BENCH_PATH")
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
              ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC") }
end

function request()
  if #tokens == 0 then return bench.noop() end
  slot = (slot % #tokens) + 1
  pending = slot
  return wrk.format("POST", path, headers, "grant_type=refresh_token&refresh_token=" .. tokens[slot])
end

function response(status, hdrs, body)
  local s = pending
  pending = nil
  if s == nil then return end
  local t = status == 200 and body:match('"refresh_token":"([^"]+)"')
  if t then
    if #used < 50 then table.insert(used, tokens[s]) end
    tokens[s] = t
  else
    -- A lost family: drop it so the run does not count its reuse again.
    bench.wrong(status)
    table.remove(tokens, s)
    slot = s - 1
  end
end

function bench.leftover(t)
  local all, p, out = t:get("tokens"), t:get("pending"), {}
  for i, v in ipairs(all) do
    if i ~= p then table.insert(out, v) end
  end
  return out
end
