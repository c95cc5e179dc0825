-- wrk -s bench/rotate.lua URL -- TOKENS_FILE OFFSET THREADS
-- Every request carries the next token of the pool: thread t of T sends tokens
-- OFFSET + t, OFFSET + t + T, ... so no token repeats until the whole pool has been sent.
-- done() prints NEXT_OFFSET, the first index no thread used, for the next run to start at.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  -- Requests are built once here, so that the load generator spends as little CPU as it can
  -- per request (it shares the machine with the server).
  stride = tonumber(args[3])
  requests = {}
  local position = 0
  for line in io.lines(args[1]) do
    if #line > 0 then
      if position % stride == id then
        requests[#requests + 1] = wrk.format("GET", "/s", { ["Authorization"] = "Bearer " .. line })
      end
      position = position + 1
    end
  end
  -- This thread owns the tokens at id, id + stride, ...: OFFSET and the pool size must be
  -- multiples of the stride (the harness sees to it).
  count = position
  assert(count % stride == 0 and tonumber(args[2]) % stride == 0)
  index = tonumber(args[2]) + id
end

function request()
  local value = requests[((index % count) - id) / stride + 1]
  index = index + stride
  return value
end

function done(summary, latency, requests)
  local top = 0
  for _, thread in ipairs(threads) do
    local used = thread:get("index")
    if used ~= nil and used > top then
      top = used
    end
  end
  -- A multiple of the stride, so that every thread keeps to its own tokens next time.
  local stride = #threads
  top = math.ceil(top / stride) * stride
  io.write(string.format("NEXT_OFFSET %d\n", top))
end
