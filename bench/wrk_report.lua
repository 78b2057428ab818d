-- wrk reporter for bench/load.py: 200 latency quantiles (microseconds) and the totals, so
-- that short runs against two endpoints in turn can be merged into one distribution each.
done = function(summary, latency, requests)
  local quantiles = {}
  for i = 1, 200 do
    quantiles[i] = string.format("%d", latency:percentile(i / 2))
  end
  io.write("QUANTILES " .. table.concat(quantiles, " ") .. "\n")
  local errors = summary.errors
  io.write(string.format("SUMMARY %d %d %d %d\n", summary.requests, summary.duration,
    errors.status, errors.connect + errors.timeout))
end
