-- node-oidc-provider's full authorization flow with a logged-in session,
-- through its dev interactions: GET /auth (prompt=consent) -> 303 to the
-- interaction; GET the consent page; POST prompt=consent -> 303 back to
-- /auth/UID; GET that -> 303 to the redirect URI with a code. Four requests
-- a flow. Its interaction cookies are unsigned (no cookies.keys) and hold
-- the interaction uid, so the script sets them from the Location it got (wrk
-- keeps only one Set-Cookie header per response). The provider gives the
-- session a new id as flows complete, so each connection logs in with its
-- own session and follows its `_session` cookie (the last Set-Cookie header,
-- the one wrk shows).
-- env: BENCH_FILE (one "_session=..." per connection), BENCH_QUERY.
package.path = "scripts/wrk/?.lua;" .. package.path
require "common"

function init(args)
  got, step = {}, 1
  session = bench.lines(true)[1]
  query = "/auth?" .. os.getenv("BENCH_QUERY")
end

function request()
  if step == 1 then return wrk.format("GET", query, { ["Cookie"] = session }) end
  if step == 2 then
    return wrk.format("GET", "/interaction/" .. uid,
      { ["Cookie"] = session .. "; _interaction=" .. uid })
  end
  if step == 3 then
    return wrk.format("POST", "/interaction/" .. uid,
      { ["Cookie"] = session .. "; _interaction=" .. uid,
        ["Content-Type"] = "application/x-www-form-urlencoded" }, "prompt=consent")
  end
  return wrk.format("GET", "/auth/" .. uid,
    { ["Cookie"] = session .. "; _interaction_resume=" .. uid })
end

local function fail(status)
  bench.wrong(status)
  step = 1
end

function response(status, headers, body)
  local s = (bench.header(headers, "set-cookie") or ""):match("^(_session=[^;]*)")
  if s then session = s end
  local loc = bench.header(headers, "location") or ""
  if step == 1 then
    uid = status == 303 and loc:match("/interaction/([^/?]+)")
    if uid then step = 2 else fail(status) end
  elseif step == 2 then
    if status == 200 and body:find('value="consent"', 1, true) then step = 3 else fail(status) end
  elseif step == 3 then
    if status == 303 and loc:find("/auth/" .. uid, 1, true) then step = 4 else fail(status) end
  else
    step = 1
    local code = status == 303 and loc:match("[?&]code=([^&]+)")
    if code then table.insert(got, code) else bench.wrong(status) end
  end
end
