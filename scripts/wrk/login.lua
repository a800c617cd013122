-- Password login: the same POST /login each time (a double-submit CSRF
-- cookie and field taken from one GET /login), answered by 303 and a new
-- session. env: BENCH_CSRF, BENCH_EMAIL, BENCH_PASSWORD.
package.path = "scripts/wrk/?.lua;" .. package.path
require "common"

function init(args)
  local csrf = os.getenv("BENCH_CSRF")
  req = wrk.format("POST", "/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "pg_login_csrf=" .. csrf,
  }, "csrf=" .. csrf .. "&email=" .. os.getenv("BENCH_EMAIL")
    .. "&password=" .. os.getenv("BENCH_PASSWORD"))
end

function request() return req end

function response(status, hdrs, body)
  if status ~= 303 or not bench.header(hdrs, "set-cookie") then bench.wrong(status) end
end
