-- Shared by every scripts/bench load script (wrk loads one script per thread
-- and once more in its main state). Each wrk thread holds one connection, so
-- a thread's requests and responses strictly alternate and a script can keep
-- per-connection state (a refresh chain, a consent flow).
--
-- env: BENCH_FILE (pool, one entry a line), BENCH_THREADS (wrk -t),
-- BENCH_STATE_OUT (where a consuming script leaves what it did not use, for
-- the next run), BENCH_GOT (where a script leaves what it collected),
-- BENCH_USED (secrets it spent successfully, for the replay check).
-- done() prints one line `BENCH_JSON {...}` that scripts/bench reads.
bench = { threads = {} }

function setup(thread)
  thread:set("id", #bench.threads)
  table.insert(bench.threads, thread)
end

-- The pool's lines, all of them or this thread's slice (every n-th line).
function bench.lines(slice)
  local out, i = {}, 0
  local n = tonumber(os.getenv("BENCH_THREADS")) or 1
  for line in io.lines(os.getenv("BENCH_FILE")) do
    if line ~= "" then
      if not slice or i % n == id then table.insert(out, line) end
      i = i + 1
    end
  end
  return out
end

function bench.split(line)
  local t = {}
  for f in string.gmatch(line, "[^\t]+") do table.insert(t, f) end
  return t
end

-- Values of one response header, whatever its case.
function bench.header(headers, name)
  for k, v in pairs(headers) do
    if string.lower(k) == name then return v end
  end
  return nil
end

bad, exhausted = 0, 0

-- Counts an unexpected answer that wrk itself would not call an error (it
-- counts statuses from 400 up).
function bench.wrong(status)
  if status < 400 then bad = bad + 1 end
end

-- A harmless request for a connection whose pool ran dry (BENCH_NOOP path).
function bench.noop()
  exhausted = 1
  wrk.thread:stop()
  return wrk.format("GET", os.getenv("BENCH_NOOP") or "/")
end

local function write_lines(path, mode, lists)
  if not path or path == "" then return end
  local f = assert(io.open(path, mode))
  for _, list in ipairs(lists) do
    for _, v in ipairs(list) do f:write(v, "\n") end
  end
  f:close()
end

function done(summary, latency, requests)
  local bad_total, exhausted_total, left, got, used = 0, 0, {}, {}, {}
  for _, t in ipairs(bench.threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    exhausted_total = exhausted_total + (t:get("exhausted") or 0)
    if bench.leftover then table.insert(left, bench.leftover(t)) end
    local g = t:get("got")
    if g then table.insert(got, g) end
    local u = t:get("used")
    if u then table.insert(used, u) end
  end
  if bench.leftover then write_lines(os.getenv("BENCH_STATE_OUT"), "w", left) end
  write_lines(os.getenv("BENCH_GOT"), "a", got)
  write_lines(os.getenv("BENCH_USED"), "a", used)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
      .. '"status_errors":%d,"socket_errors":%d,"timeouts":%d,"bad":%d,"exhausted":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write, e.timeout, bad_total, exhausted_total))
end
