-- Runs the Argo CD health checks of this directory on sample objects and checks the status and message of each.
-- Usage: lua5.1 test.lua [directory of the .lua checks]    (charts/test.sh runs it)
-- Argo CD runs health scripts in gopher-lua (Lua 5.1) with `obj` set and only the safe standard libraries, so
-- each case runs the script in a fresh environment holding just those.
local dir = arg[1] or "."

local function load_check(file)
  local chunk, err = loadfile(dir .. "/" .. file)
  if chunk == nil then
    error("cannot load " .. file .. ": " .. err)
  end
  return function(o)
    setfenv(chunk, {
      obj = o, string = string, table = table, math = math,
      tostring = tostring, tonumber = tonumber, type = type, pairs = pairs, ipairs = ipairs,
    })
    return chunk()
  end
end

local function run(meta, status)
  return { apiVersion = "milan.io/v1alpha1", metadata = meta or { name = "r", generation = 1 }, status = status }
end

-- Cases shared by both kinds: the phase mapping and the generation check.
local common = {
  { "no status yet", run(nil, nil), "Progressing", "Waiting for the operator" },
  { "just created: the schema's default status", run(nil, { observedGeneration = 0 }), "Progressing",
    "Waiting for the operator to act on generation 1" },
  { "status without a phase", run(nil, { observedGeneration = 1 }), "Progressing",
    "Waiting for the operator to set a phase" },
  { "spec changed, not yet observed", run({ name = "r", generation = 3 }, { observedGeneration = 2, phase = "Succeeded" }),
    "Progressing", "Waiting for the operator to act on generation 3" },
  { "observedGeneration missing", run({ name = "r", generation = 2 }, { phase = "Running" }), "Progressing",
    "Waiting for the operator to act on generation 2" },
  { "no generation in metadata", run({ name = "r" }, { phase = "Failed", message = "out of restarts" }), "Degraded",
    "Failed: out of restarts" },
  { "Pending", run(nil, { observedGeneration = 1, phase = "Pending", message = "waiting for pods to be scheduled" }),
    "Progressing", "Pending: waiting for pods to be scheduled" },
  { "Queued", run(nil, { observedGeneration = 1, phase = "Queued" }), "Progressing", "Queued" },
  { "Running without progress", run(nil, { observedGeneration = 1, phase = "Running", message = "2/2 pods running" }),
    "Progressing", "Running: 2/2 pods running" },
  { "Restarting", run(nil, { observedGeneration = 1, phase = "Restarting", restarts = 2, message = "pod r-a2-1 failed" }),
    "Progressing", "Restarting (restart 2): pod r-a2-1 failed" },
  { "Restarting without count", run(nil, { observedGeneration = 1, phase = "Restarting" }), "Progressing", "Restarting" },
  { "Suspended", run(nil, { observedGeneration = 1, phase = "Suspended", message = "spec.suspend is true" }),
    "Suspended", "Suspended: spec.suspend is true" },
  { "Failed", run(nil, { observedGeneration = 1, phase = "Failed", message = "RestartLimitExceeded" }), "Degraded",
    "Failed: RestartLimitExceeded" },
  { "Failed, empty message", run(nil, { observedGeneration = 1, phase = "Failed", message = "" }), "Degraded", "Failed" },
  { "observed a newer generation", run({ name = "r", generation = 4 }, { observedGeneration = 5, phase = "Failed" }),
    "Degraded", "Failed" },
  { "unknown phase", run(nil, { observedGeneration = 1, phase = "Evicted" }), "Unknown", "Unknown phase Evicted" },
}

local progress = { epoch = 2, totalEpochs = 4, percent = 62.5, trainLoss = 0.43214 }
local eval = { epoch = 1, top1 = 86.234, top5 = 99.5, bestTop1 = 86.5, bestEpoch = 1 }

local suites = {
  ["health-milanpretrain.lua"] = {
    { "Succeeded", run(nil, { observedGeneration = 1, phase = "Succeeded" }), "Healthy", "Succeeded" },
    { "Succeeded with message", run(nil, { observedGeneration = 1, phase = "Succeeded", message = "4 epochs" }),
      "Healthy", "Succeeded: 4 epochs" },
    { "Running with progress", run(nil, { observedGeneration = 1, phase = "Running", progress = progress }),
      "Progressing", "Running, epoch 3/4, 62.5%, loss 0.4321" },
    { "Running, first report", run(nil, { observedGeneration = 1, phase = "Running", progress = { epoch = 0 } }),
      "Progressing", "Running, epoch 1" },
  },
  ["health-milanfinetune.lua"] = {
    { "Succeeded without eval", run(nil, { observedGeneration = 1, phase = "Succeeded" }), "Healthy", "Succeeded" },
    { "Succeeded with eval", run(nil, { observedGeneration = 1, phase = "Succeeded", eval = eval, message = "done" }),
      "Healthy", "Succeeded, top-1 86.23% (best 86.50%): done" },
    { "Running with progress and eval", run(nil, { observedGeneration = 1, phase = "Running", progress = progress,
      eval = { top1 = 80 } }), "Progressing", "Running, epoch 3/4, 62.5%, loss 0.4321, top-1 80.00%" },
    { "Pending on its pretrain", run(nil, { observedGeneration = 1, phase = "Pending",
      message = "waiting for MilanPretrain quickstart (Running)" }), "Progressing",
      "Pending: waiting for MilanPretrain quickstart (Running)" },
  },
}

local passed, failed = 0, 0
for _, file in ipairs({ "health-milanpretrain.lua", "health-milanfinetune.lua" }) do
  local check = load_check(file)
  local cases = {}
  for _, c in ipairs(common) do table.insert(cases, c) end
  for _, c in ipairs(suites[file]) do table.insert(cases, c) end
  for _, c in ipairs(cases) do
    local name, o, want_status, want_message = c[1], c[2], c[3], c[4]
    local ok, hs = pcall(check, o)
    if not ok then
      failed = failed + 1
      print(string.format("FAIL %s / %s: error %s", file, name, tostring(hs)))
    elseif hs.status ~= want_status or hs.message ~= want_message then
      failed = failed + 1
      print(string.format("FAIL %s / %s: got %s %q, want %s %q", file, name, tostring(hs.status),
        tostring(hs.message), want_status, want_message))
    else
      passed = passed + 1
      print(string.format("ok   %s / %s: %s %q", file, name, hs.status, hs.message))
    end
  end
end
print(string.format("argocd health checks: %d passed, %d failed", passed, failed))
if failed > 0 or passed == 0 then
  os.exit(1)
end
