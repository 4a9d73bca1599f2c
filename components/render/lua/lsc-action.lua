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
  -- A new or changed directory goes in the list as itself: a burst into a new directory
  -- (how uploads usually land) otherwise sent every batch after it through default.rsync's
  -- -r filter list, O(entries × batch) on both ends (issue 14, measured). The sync root
  -- stays with default.rsync.
  local function plainEntry(event)
    return PLAIN[event.etype] == true and event.path ~= "/"
  end
  lscAction = function(inlet)
    local config = inlet.getConfig()
    local computed = config.rsync and config.rsync._computed
    if type(computed) ~= "table" then return stock(inlet) end
    local elist = inlet.getEvents(plainEntry)
    local seen, paths = {}, {}
    for _, p in ipairs(elist.getPaths()) do
      -- "d/" in a file list would also send d's entries one level down (rsync 3.x,
      -- measured); "d" is the directory alone, as default.rsync's filter sends it.
      if p:byte(-1) == 47 then p = p:sub(1, -2) end
      if not seen[p] then
        seen[p] = true
        paths[#paths + 1] = p
      end
    end
    if #paths == 0 then return stock(inlet) end
    -- The target named: which peer a list was for is what a convergence bug turns on (one
    -- went unexplained for a round while the log said only that some list had the files).
    log("Normal", "Calling rsync with file-list of new/modified files to ", config.target, "\n",
      table.concat(paths, "\n"))
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
