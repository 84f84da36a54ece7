-- wrk script for bench/webhook_press.py: POST /telegram/webhook with the updates in a file,
-- one JSON update per line, in order.
--
--   wrk ... -s bench/lua/webhook_press.lua URL -- BODIES SECRET MODE
--
-- MODE "once": each update is sent at most once (fresh presses); running out is counted in
-- `overflow` (the caller refuses the round) and the last update is repeated meanwhile.
-- MODE "cycle": the file is sent round and round (replays of presses already handled).
-- `done` prints how many requests were issued, which wrk's own count (completed answers)
-- can be short of by the requests still in flight when the duration ended, plus one: wrk
-- calls request() once before the run to check the script, and that one is never sent.

bodies = {}
index = 0
issued = 0
overflow = 0
cycle = false
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local headers = {}
   headers["Content-Type"] = "application/json"
   headers["X-Telegram-Bot-Api-Secret-Token"] = args[2]
   for line in io.lines(args[1]) do
      if #line > 0 then
         bodies[#bodies + 1] = wrk.format("POST", "/telegram/webhook", headers, line)
      end
   end
   cycle = args[3] == "cycle"
end

function request()
   index = index + 1
   if index > #bodies then
      if cycle then
         index = 1
      else
         overflow = overflow + 1
         index = #bodies
      end
   end
   issued = issued + 1
   return bodies[index]
end

function done(summary, latency, requests)
   local total_issued, total_overflow = 0, 0
   for _, thread in ipairs(threads) do
      total_issued = total_issued + thread:get("issued")
      total_overflow = total_overflow + thread:get("overflow")
   end
   io.write(string.format("press-issued: %d\npress-overflow: %d\n", total_issued, total_overflow))
end
