-- POST /v1/search, each request with the next token of a pool (one
-- connection per token), so no single connection's cache or limit dominates.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  tokens, i = {}, 0
  for line in io.lines(os.getenv("BENCH_FILE")) do table.insert(tokens, line) end
  i = id
  body = '{"filter":{"property":"object","value":"page"},"page_size":20}'
end
function request()
  i = (i % #tokens) + 1
  return wrk.format("POST", "/v1/search", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "application/json",
    ["Notion-Version"] = "2025-09-03",
  }, body)
end
