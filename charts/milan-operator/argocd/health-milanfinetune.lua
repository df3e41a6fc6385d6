-- Argo CD health check for milan.io MilanFinetune
-- (argocd-cm key: resource.customizations.health.milan.io_MilanFinetune). Argo CD sets `obj` to the live object.
--   Healthy      phase Succeeded
--   Progressing  no status yet; a spec change the operator has not acted on yet
--                (status.observedGeneration < metadata.generation); Pending, Queued, Running, Restarting
--   Suspended    Suspended
--   Degraded     Failed
--   Unknown      a phase this script does not know
-- Messages carry the latest evaluation (status.eval, written by the trainer) when there is one.
local hs = {}

-- "<text>: <status.message>", or just the text without a message.
local function with_message(text, status)
  if status.message ~= nil and status.message ~= "" then
    return text .. ": " .. status.message
  end
  return text
end

-- "epoch 3/4, 62.5%, loss 0.4321" from status.progress (epoch there is 0-based, as in log.txt).
local function progress_text(p)
  if p == nil or p.epoch == nil then
    return nil
  end
  local text = "epoch " .. string.format("%d", p.epoch + 1)
  if p.totalEpochs ~= nil then
    text = text .. "/" .. string.format("%d", p.totalEpochs)
  end
  if p.percent ~= nil then
    text = text .. string.format(", %.1f%%", p.percent)
  end
  if p.trainLoss ~= nil then
    text = text .. string.format(", loss %.4f", p.trainLoss)
  end
  return text
end

-- "top-1 86.23% (best 86.50%)" from status.eval.
local function eval_text(e)
  if e == nil or e.top1 == nil then
    return nil
  end
  local text = string.format("top-1 %.2f%%", e.top1)
  if e.bestTop1 ~= nil then
    text = text .. string.format(" (best %.2f%%)", e.bestTop1)
  end
  return text
end

-- "<text>, <evaluation>", or just the text before the first evaluation.
local function with_eval(text, status)
  local evaluation = eval_text(status.eval)
  if evaluation ~= nil then
    return text .. ", " .. evaluation
  end
  return text
end

local status = obj.status
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator"
  return hs
end
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to act on generation " .. string.format("%d", generation)
  return hs
end

local phase = status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = with_message(with_eval("Succeeded", status), status)
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = with_message("Failed", status)
elseif phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = with_message("Suspended", status)
elseif phase == "Running" then
  hs.status = "Progressing"
  local progress = progress_text(status.progress)
  if progress ~= nil then
    hs.message = with_eval("Running, " .. progress, status)
  else
    hs.message = with_message("Running", status)
  end
elseif phase == "Restarting" then
  hs.status = "Progressing"
  local text = "Restarting"
  if status.restarts ~= nil then
    text = text .. " (restart " .. string.format("%d", status.restarts) .. ")"
  end
  hs.message = with_message(text, status)
elseif phase == "Pending" or phase == "Queued" then
  hs.status = "Progressing"
  hs.message = with_message(phase, status)
elseif phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to set a phase"
else
  hs.status = "Unknown"
  hs.message = "Unknown phase " .. tostring(phase)
end
return hs
