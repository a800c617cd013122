-- Each wrk thread (one connection) rotates its own refresh-token chain:
-- every response carries the successor the next request uses.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  local i = 0
  for line in io.lines(os.getenv("BENCH_FILE")) do
    if i == id then token = line end
    i = i + 1
  end
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
              ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC") }
end
function request()
  return wrk.format("POST", "/v1/oauth/token", headers,
    "grant_type=refresh_token&refresh_token=" .. token)
end
function response(status, hdrs, body)
  local t = body:match('"refresh_token":"(nrt_[^"]+)"')
  if t then token = t end
end
