-- Code exchange for scripts/bench-backends: each wrk thread redeems its own slice of pre-minted codes, once each.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  codes, next_code = {}, 1
  local n, i = tonumber(os.getenv("BENCH_THREADS")), 0
  for line in io.lines(os.getenv("BENCH_FILE")) do
    if i % n == id then table.insert(codes, line) end
    i = i + 1
  end
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
              ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC") }
  redirect = os.getenv("BENCH_REDIRECT")
end
function request()
  local c = codes[next_code]
  if c == nil then
    wrk.thread:stop()
    c = "exhausted"
  end
  next_code = next_code + 1
  return wrk.format("POST", "/v1/oauth/token", headers,
    "grant_type=authorization_code&code=" .. c .. "&redirect_uri=" .. redirect)
end
