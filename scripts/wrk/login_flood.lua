-- A wrong-password flood for scripts/bench's users_me_flood: POST /login
-- with a wrong password for an email never tried before on every request
-- (so no account lock short-circuits it and each attempt costs argon2).
-- env: BENCH_CSRF.
package.path = "scripts/wrk/?.lua;" .. package.path
require "common"

function init(args)
  csrf = os.getenv("BENCH_CSRF")
  n = 0
end

function request()
  n = n + 1
  return wrk.format("POST", "/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "pg_login_csrf=" .. csrf,
  }, "csrf=" .. csrf .. "&email=flood-" .. id .. "-" .. n .. "%40example.com&password=wrong")
end
