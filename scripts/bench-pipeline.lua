-- wrk script for scripts/bench-pipeline: POSTs a different signed callback
-- in every request and counts the answers.
--
--   wrk -t2 -c64 -d10s -s scripts/bench-pipeline.lua URL -- CORPUS
--
-- Thread N reads CORPUS.N (written by bench-corpus: one JSON body a line),
-- so no body is sent twice in a run (bench-corpus --repeat-every puts
-- repeats in the file itself). A thread that runs out repeats its last body
-- and counts it in "exhausted": such a run is invalid. Only 200 counts as
-- acknowledged. Without a corpus after --, it GETs the URL.
-- done() prints one "key value" line per figure, for the shell to parse.

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("index", #threads)
end

function init(args)
    acknowledged, exhausted, other = 0, 0, 0
    statuses = ""
    seen = {}
    -- No corpus: plain GETs of the URL (scripts/bench-all's /healthz runs).
    if args[1] == nil then return end
    corpus = assert(io.open(args[1] .. "." .. index, "r"))
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    if corpus == nil then return wrk.format("GET") end
    local body = corpus:read("*l")
    if body then
        last = body
    else
        exhausted = exhausted + 1
        body = last or "{}"
    end
    return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
    if status == 200 then
        acknowledged = acknowledged + 1
    else
        other = other + 1
        seen[status] = (seen[status] or 0) + 1
        -- thread:get copies strings reliably; tables not in every wrk.
        local parts = {}
        for code, count in pairs(seen) do table.insert(parts, code .. "x" .. count) end
        table.sort(parts)
        statuses = table.concat(parts, ",")
    end
end

function done(summary, latency, requests)
    local acked, others, dry, codes = 0, 0, 0, {}
    for _, thread in ipairs(threads) do
        acked = acked + thread:get("acknowledged")
        others = others + thread:get("other")
        dry = dry + thread:get("exhausted")
        local s = thread:get("statuses")
        if s ~= "" then table.insert(codes, s) end
    end
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format("seconds %.3f\n", seconds))
    io.write(string.format("responses %d\n", summary.requests))
    io.write(string.format("acknowledged %d\n", acked))
    io.write(string.format("acknowledged_per_second %.0f\n", acked / seconds))
    io.write(string.format("non200 %d\n", others))
    io.write(string.format("non200_statuses %s\n", #codes > 0 and table.concat(codes, ";") or "none"))
    io.write(string.format("exhausted %d\n", dry))
    io.write(string.format("socket_errors %d\n", e.connect + e.read + e.write + e.timeout))
    io.write(string.format("p50_ms %.2f\n", latency:percentile(50) / 1000))
    io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
    io.write(string.format("p999_ms %.2f\n", latency:percentile(99.9) / 1000))
    io.write(string.format("max_ms %.2f\n", latency.max / 1000))
end
