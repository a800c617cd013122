-- Code exchange (authorization_code + PKCE, client_secret_basic): each
-- connection redeems its own slice of pre-minted codes, each once. Leaves the
-- codes it did not send in BENCH_STATE_OUT, and the first refresh tokens it
-- received in BENCH_GOT (the refresh and introspection pools), and the first
-- codes redeemed in BENCH_USED (for the replay check).
-- env: BENCH_PATH, BENCH_BASIC, BENCH_REDIRECT, BENCH_VERIFIER, BENCH_KEEP.
package.path = "scripts/wrk/?.lua;" .. package.path
require "common"

function init(args)
  codes, next_code, got, used = bench.lines(true), 1, {}, {}
  keep = tonumber(os.getenv("BENCH_KEEP")) or 0
  path = os.getenv("BENCH_PATH")
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
              ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC") }
  tail = "&redirect_uri=" .. os.getenv("BENCH_REDIRECT")
    .. "&code_verifier=" .. os.getenv("BENCH_VERIFIER")
end

function request()
  local c = codes[next_code]
  if c == nil then return bench.noop() end
  next_code = next_code + 1
  return wrk.format("POST", path, headers, "grant_type=authorization_code&code=" .. c .. tail)
end

function response(status, hdrs, body)
  if exhausted == 1 then return end
  if status ~= 200 then return bench.wrong(status) end
  if #used < keep then table.insert(used, codes[next_code - 1]) end
  if #got < keep then
    local t = body:match('"refresh_token":"([^"]+)"')
    if t then table.insert(got, t) end
  end
end

-- Codes never sent; one in flight when wrk stopped counts as sent.
function bench.leftover(t)
  local all, from, out = t:get("codes"), t:get("next_code"), {}
  for i = from, #all do table.insert(out, all[i]) end
  return out
end
