-- pagegrant's full authorization flow with a logged-in session: GET
-- /v1/oauth/authorize (the consent page, a pending request recorded), then
-- the consent POST (Allow access, one page) answered by 303 to the redirect
-- URI with a code. Two requests a flow; every code lands in BENCH_GOT (the
-- code-exchange pool).
-- env: BENCH_FILE (session cookies "pg_session=...", one a line: each
-- connection takes its own, as 32 people consenting at once would),
-- BENCH_COOKIE (the one cookie when there is no file), BENCH_QUERY
-- (authorize query), BENCH_PAGE.
package.path = "scripts/wrk/?.lua;" .. package.path
require "common"

function init(args)
  got, step = {}, 1
  local cookie = os.getenv("BENCH_COOKIE")
  if os.getenv("BENCH_FILE") then cookie = bench.lines(true)[1] or cookie end
  get = wrk.format("GET", "/v1/oauth/authorize?" .. os.getenv("BENCH_QUERY"),
    { ["Cookie"] = cookie })
  post_headers = { ["Cookie"] = cookie,
                   ["Content-Type"] = "application/x-www-form-urlencoded" }
  page = os.getenv("BENCH_PAGE")
end

function request()
  if step == 1 then return get end
  return wrk.format("POST", "/v1/oauth/authorize", post_headers,
    "request_id=" .. request_id .. "&csrf=" .. csrf .. "&decision=allow&page=" .. page)
end

function response(status, headers, body)
  if step == 1 then
    request_id = body:match('name="request_id" value="([^"]+)"')
    csrf = body:match('name="csrf" value="([^"]+)"')
    if status == 200 and request_id and csrf then step = 2 else bench.wrong(status) end
    return
  end
  step = 1
  local code = status == 303 and (bench.header(headers, "location") or ""):match("[?&]code=([^&]+)")
  if code then table.insert(got, code) else bench.wrong(status) end
end
