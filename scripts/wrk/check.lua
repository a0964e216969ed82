-- Entitlement checks for random partners: wrk -s check.lua URL -- IDS_FILE TOKEN ENTITLEMENT
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")

local ids = {}
local token, entitlement

init = function(args)
  for line in io.lines(args[1]) do ids[#ids + 1] = line end
  token = args[2]
  entitlement = args[3]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/api/v1/entitlements/check?partner=" .. id .. "&entitlement=" .. entitlement,
    { ["Authorization"] = "Bearer " .. token })
end
