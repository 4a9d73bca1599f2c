-- lsyncd-cluster: plain file batches as a file list (components/render/lsyncdAction.ts).
local lscAction
do
  local PROTECT = LSC_PROTECT_RULES
  local function stockProtected(inlet)
    local config = inlet.getConfig()
    local computed = config.rsync and config.rsync._computed
    local f = PROTECT and io.open(PROTECT, "r")
    if not f or type(computed) ~= "table" then return default.rsync.action(inlet) end
    f:close()
    -- spawn() copies its arguments at once, so the rule is there for this call only.
    computed[#computed + 1] = "--filter=merge " .. PROTECT
    local ok, err = pcall(default.rsync.action, inlet)
    computed[#computed] = nil
    if not ok then error(err, 0) end
  end
  local stock = stockProtected
  local PLAIN = { Create = true, Modify = true, Attrib = true }
  local function plainFile(event)
    return PLAIN[event.etype] == true and not event.isdir
  end
  lscAction = function(inlet)
    local config = inlet.getConfig()
    local computed = config.rsync and config.rsync._computed
    if type(computed) ~= "table" then return stock(inlet) end
    local elist = inlet.getEvents(plainFile)
    local seen, paths = {}, {}
    for _, p in ipairs(elist.getPaths()) do
      if not seen[p] then
        seen[p] = true
        paths[#paths + 1] = p
      end
    end
    if #paths == 0 then return stock(inlet) end
    log("Normal", "Calling rsync with file-list of new/modified files\n", table.concat(paths, "\n"))
    spawn(elist, config.rsync.binary, "<", table.concat(paths, "\000"), computed,
      "--from0", "--files-from=-", "--ignore-missing-args", config.source, config.target)
  end
end

-- lsyncd-cluster: the startup sync never replaces a newer version (lsyncdAction.ts).
local lscInit
do
  local stock = default.rsync.init
  lscInit = function(event)
    local config = event.config
    local computed = config.rsync and config.rsync._computed
    if type(computed) ~= "table" then return stock(event) end
    -- spawn() copies its arguments at once, so the flag is there for this call only.
    computed[#computed + 1] = "--update"
    local ok, err = pcall(stock, event)
    computed[#computed] = nil
    if not ok then error(err, 0) end
  end
end
