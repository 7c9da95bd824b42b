-- The one-click answer POST for wrk (bench/survey_answer_load.py --client wrk): every request
-- answers a different invitation, read from the file named by the first script argument (one
-- "token score" a line); each wrk thread takes every n-th line, n the thread count (the second).
-- The CSRF secret (the third) is the cookie and the form field both, as a browser sends them.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    local token, score = line:match("^(%S+) (%d+)$")
    table.insert(tokens, {token, score})
  end
  stride = tonumber(args[2])
  secret = args[3]
  next_line = index + 1
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. secret,
  }
end

function request()
  if next_line > #tokens then
    -- Out of unanswered invitations: the rest amend answers (the report says when it came to this).
    next_line = index + 1
  end
  local entry = tokens[next_line]
  next_line = next_line + stride
  local body = "csrfmiddlewaretoken=" .. secret .. "&step=score&score=" .. entry[2]
  return wrk.format("POST", "/s/" .. entry[1] .. "/", headers, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local statuses = summary.errors.status
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50=%.1f p95=%.1f p99=%.1f max=%.1f non_3xx=%d "
      .. "socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, statuses,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
