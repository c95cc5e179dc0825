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
  tokens = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      tokens[#tokens + 1] = "Bearer " .. line
    end
  end
  count = #tokens
  stride = tonumber(args[3])
  index = tonumber(args[2]) + id
end

function request()
  local value = tokens[(index % count) + 1]
  index = index + stride
  return wrk.format("GET", "/s", { ["Authorization"] = value })
end

function done(summary, latency, requests)
  local top = 0
  for _, thread in ipairs(threads) do
    local used = thread:get("index")
    if used ~= nil and used > top then
      top = used
    end
  end
  io.write(string.format("NEXT_OFFSET %d\n", top))
end
