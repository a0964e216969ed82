-- Autosaves by many candidates at once: each request saves one answer of a random candidate's
-- open attempt. wrk -s autosave.lua URL -- CANDIDATES_FILE
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")

local candidates = {}

init = function(args)
  for line in io.lines(args[1]) do
    local fields = {}
    for field in line:gmatch("%S+") do fields[#fields + 1] = field end
    candidates[#candidates + 1] = fields
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

local answers = { '{"response":{"type":"bool","value":true}}', '{"response":{"type":"choice","value":"refer"}}',
  '{"response":{"type":"text","value":"radiologists"}}', '{"response":{"type":"lines","value":[3]}}',
  '{"response":null,"flagged":true}' }

request = function()
  local c = candidates[math.random(#candidates)]
  local item = c[3 + math.random(#c - 3)]
  return wrk.format("PUT", "/api/v1/attempts/" .. c[3] .. "/answers/" .. item, {
    ["Cookie"] = "accredit_session=" .. c[1],
    ["x-csrf-token"] = c[2],
    ["Content-Type"] = "application/json",
  }, answers[math.random(#answers)])
end

response = function(status, headers, body)
  if status ~= 204 and not reported then
    reported = true
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
