-- The body of the lsyncd-cluster intake (components/render/lsyncdIntake.ts says why).
-- renderIntake() puts it inside `do ... end` after the values it reads: SETTLE, QUIET,
-- RELAY_ARRIVALS, TEMP, VERSIONS, FUSE_FILES, FUSE_SECONDS, FUSE_DIR, FUSE_RULES,
-- FUSE_DELAY, ORIGIN_OF, REPLACED and SYNC_USER.

  local function upvalue(fn, wanted)
    for i = 1, 255 do
      local name, value = debug.getupvalue(fn, i)
      if name == nil then return nil end
      if name == wanted then return value end
    end
  end
  local Syncs = upvalue(sync, "Syncs")
  if type(Syncs) ~= "table" or type(Syncs.get) ~= "function" then
    error("lsyncd-cluster: this lsyncd has no Syncs table; it needs lsyncd 2.2.x")
  end
  -- lstat through LuaFileSystem (Debian's lua-filesystem, installed by the packages step):
  -- the size check must never open anything but a regular file, since opening a FIFO
  -- blocks lsyncd's only thread for ever (issue 11). Without it lsyncd refuses to start.
  local okLfs, lfs = pcall(require, "lfs")
  if not okLfs or type(lfs) ~= "table" or type(lfs.symlinkattributes) ~= "function" then
    error("lsyncd-cluster: LuaFileSystem (lua-filesystem) is missing; the packages step installs it")
  end
  -- A link, FIFO, socket or device has no size to wait for: nil, so it is queued at once.
  local function sizeOf(file)
    if lfs.symlinkattributes(file, "mode") ~= "file" then return nil end
    local f = io.open(file, "rb")
    if not f then return nil end
    local size = f:seek("end")
    f:close()
    return size
  end
  local function starts(p, prefix)
    return p ~= nil and p:sub(1, #prefix) == prefix
  end
  local function isFile(p)
    return p:byte(-1) ~= 47
  end
  local DIRECT = { Create = true, Modify = true, Attrib = true }

  -- 5. Which of two versions of a name wins: newer mtime (ns), then larger sha256.
  local function shq(p)
    return "'" .. (p:gsub("'", "'\\''")) .. "'"
  end
  local function output(cmd)
    local f = io.popen(cmd)
    if not f then return "" end
    local out = f:read("a") or ""
    f:close()
    return out
  end
  -- Whether a beats b; for two contents with the same mtime, also that mtime (sec, nsec);
  -- and b's mtime in seconds, to the nanosecond as far as a double holds it (6. tells a
  -- conflict by it).
  local function beats(a, b)
    local out = output("stat -c %.9Y -- " .. shq(a) .. " " .. shq(b) .. " 2>/dev/null")
    local sa, na, sb, nb = out:match("^(%d+)%.(%d+)\n(%d+)%.(%d+)\n")
    if sa == nil then return false end
    sa, na, sb, nb = tonumber(sa), tonumber(na), tonumber(sb), tonumber(nb)
    local bTime = sb + nb / 1e9
    if sa ~= sb then return sa > sb, nil, nil, bTime end
    if na ~= nb then return na > nb, nil, nil, bTime end
    -- Each read on stdin, so the name is never printed: sha256sum escapes a name with a
    -- backslash or a newline and marks its line with a leading backslash, which no pattern
    -- here expected, so such a tie was never settled (hosts kept different bytes for good;
    -- a random hunt, 2026-12-01). A file gone meanwhile prints nothing: no second hash.
    local sums = output("{ sha256sum < " .. shq(a) .. " ; sha256sum < " .. shq(b) .. " ; } 2>/dev/null")
    local ha, hb = sums:match("^(%x+) [^\n]*\n(%x+) ")
    if ha == nil or hb == nil or ha == hb then return false, nil, nil, bTime end
    return ha > hb, sa, na, bTime
  end
  -- The wall clock to lsyncd's tick (10 ms) without a process per reading. os.time()
  -- counts whole seconds, which called an upload written 0.3 s before the version it
  -- replaced reached the exchange an overwrite whenever both fell in one second (6.;
  -- measured: 9 of 40 same-name races 0.1-0.4 s apart). lsyncd's now() counts
  -- kernel ticks; one reading of `date` ties the two, taken again a minute later (at most
  -- one process a minute, while names arrive) or as soon as they disagree on the second
  -- (the wall clock was stepped; until then an arrival may be placed up to that step off).
  local wallBase, tickBase
  local function wallNow()
    local t = os.time()
    if wallBase ~= nil and now() - tickBase < 60 then
      local w = wallBase + (now() - tickBase)
      if w > t - 0.05 and w < t + 1.05 then return w end
    end
    local w = tonumber((output("date +%s.%N 2>/dev/null"):match("^%d+%.%d+")))
    if w == nil then return t end
    wallBase, tickBase = w, now()
    return w
  end
  -- The winner of a tie gets its mtime one nanosecond later: rsync's quick check (size and
  -- mtime) would otherwise call the loser, where it has the same size, up to date.
  local function bump(file, sec, nsec)
    nsec = nsec + 1
    if nsec > 999999999 then sec, nsec = sec + 1, 0 end
    output(string.format("touch -m -d @%d.%09d -- %s 2>/dev/null", sec, nsec, shq(file)))
  end
  -- The mtime of one file (sec, nsec), or nil.
  local function mtimeOf(file)
    local sec, nsec = output("stat -c %.9Y -- " .. shq(file) .. " 2>/dev/null"):match("^(%d+)%.(%d+)")
    if sec == nil then return nil end
    return tonumber(sec), tonumber(nsec)
  end
  -- A version kept against an arrival moves 1 ns on before it goes out again. While the
  -- arrival was landing, this host's own push of the name may have listed the kept
  -- version (its mtime) and then read the arrival's bytes: its peer then holds a chimera,
  -- the kept version's mtime and size over the other's content, which rsync's quick check
  -- would call up to date for ever (seen in CI: hosts different for good). A new mtime
  -- makes every peer take the kept version whole.
  local function bumpKept(file)
    local sec, nsec = mtimeOf(file)
    if sec ~= nil then bump(file, sec, nsec) end
  end
  local function exists(file)
    local f = io.open(file, "rb")
    if f then f:close() return true end
    return false
  end
  -- The pusher dir ("/<temp>/<pusher>/") of a path inside the temp dir, and whether the
  -- path is in its .replaced/ (then a move out of it is our own restore, queued already).
  local function pusherDirOf(p)
    local pusher, inner = p:sub(#TEMP + 1):match("^([^/]+)/(.*)$")
    if pusher == nil then return nil, false end
    local dir = TEMP .. pusher .. "/"
    return dir, starts("/" .. inner, REPLACED)
  end
  -- The origin named by a pusher dir ("/<temp>/node01/" -> "node01"); host names are
  -- a-z, 0-9 and "-", anything else (a restore: ".restore") is kept readable but safe.
  local function originOf(pdir)
    local name = pdir:sub(#TEMP + 1, -2)
    if name:match("^[a-z0-9-]+$") then return name end
    if name == ".restore" then return "restore" end
    return "unknown"
  end

  -- 6. Versions. Dirs made so far (a cache: a stat per version otherwise).
  local versionDirs, versionDirCount = {}, 0
  local function versionDir(dir)
    if versionDirs[dir] then return true end
    local mode = lfs.symlinkattributes(dir, "mode")
    if mode == nil then
      local parent = dir:match("^(.+)/[^/]+$")
      if parent == nil or #parent + 1 < #VERSIONS or not versionDir(parent) then return false end
      lfs.mkdir(dir)
      mode = lfs.symlinkattributes(dir, "mode")
    end
    if mode ~= "directory" then return false end
    if versionDirCount > 10000 then versionDirs, versionDirCount = {}, 0 end
    versionDirs[dir] = true
    versionDirCount = versionDirCount + 1
    return true
  end
  -- Keeps file (a replaced, deleted or losing version of name) as a version: renamed,
  -- or with link set hard-linked (the file stays where it is). Without a versions area, or
  -- should that fail, a replaced version is removed as before issue 13 (and logged).
  local function keepVersion(file, name, origin, kind, link)
    if VERSIONS ~= nil and isFile(name) and lfs.symlinkattributes(file, "mode") == "file" then
      local dir = VERSIONS .. name:sub(2)
      if versionDir(dir) then
        local base = dir .. "/" .. os.date("!%Y%m%dT%H%M%SZ") .. "~" .. origin .. "~" .. kind
        local target, n = base, 1
        while lfs.symlinkattributes(target, "mode") ~= nil do
          n = n + 1
          target = base .. "~" .. n
        end
        local ok
        if link then ok = lfs.link(file, target) else ok = os.rename(file, target) end
        if ok then return end
      end
      log("Error", "lsyncd-cluster: could not keep a version of ", name, " in ", VERSIONS)
    end
    if not link then os.remove(file) end
  end
  -- A file rsync moved into a pusher's .replaced/ dir that lsyncd did not watch yet (made
  -- by that very push: rsync moves faster than lsyncd adds watches) arrives as a plain
  -- delete. Which pusher's push it was is where its replaced copy is.
  local function replacedCopy(source, path)
    for _, dir in pairs(ORIGIN_OF) do
      local copy = source .. dir:sub(2) .. REPLACED:sub(2) .. path:sub(2)
      if lfs.symlinkattributes(copy, "mode") == "file" then return copy, dir end
    end
    return nil, nil
  end
  -- Every sync gets each event in turn: the first to ask computes the answer, the other
  -- Syncs.size() - 1 reuse it (computing it may change what the next would look at). With
  -- ttl, an answer not used up within ttl seconds (a sync that did not ask) is dropped.
  local function shared(cache, key, compute, ttl)
    local c = cache[key]
    if c ~= nil and (c.due == nil or now() <= c.due) then
      c.left = c.left - 1
      if c.left <= 0 then cache[key] = nil end
      return c.value
    end
    cache[key] = nil
    local value = compute()
    if Syncs.size() > 1 then cache[key] = { value = value, left = Syncs.size() - 1, due = ttl and now() + ttl } end
    return value
  end
  -- Every sync gets every event, in an order lsyncd does not promise: the first to see a
  -- delete keeps its version (which moves the replaced copy away) and decides its relay,
  -- the others know it by this.
  local sightings = {}
  local function firstSight(key)
    local v = sightings[key]
    if v ~= nil then
      v.left = v.left - 1
      if v.left <= 0 then sightings[key] = nil end
      return false
    end
    if Syncs.size() > 1 then sightings[key] = { left = Syncs.size() - 1 } end
    return true
  end
  -- When each name last arrived, and from where: two generations of FUSE-independent
  -- length, so the table stays small (a conflict is a matter of seconds).
  local ARRIVAL_WINDOW = 120
  local arrivals, oldArrivals, arrivalsSince = {}, {}, os.time()
  local function arrived(name, origin)
    local t = os.time()
    if t - arrivalsSince > ARRIVAL_WINDOW then
      oldArrivals, arrivals, arrivalsSince = arrivals, {}, t
    end
    arrivals[name] = { origin = origin, time = wallNow() }
  end
  local function lastArrival(name)
    return arrivals[name] or oldArrivals[name]
  end

  -- 5b. A file rsync moved into a pusher's .replaced/: a delete (--delete --backup always
  -- renames), or the first half of a replace whose old version the receiving sync user
  -- could not hard-link (fs.protected_hardlinks: a file a local writer owns, not the sync
  -- user), when the arrival's rename follows at once and arbitrate() weighs the two. Seen
  -- in CI: taken for a delete, a node's newer upload was dropped and the older version
  -- won everywhere. So the version waits aside ASIDE seconds: an arrival of the name from
  -- the same pusher takes it into arbitrate(); otherwise it was a delete ("deleted" runs
  -- once, "relays" once per sync), or the name was written here again meanwhile (then the
  -- moved-aside version is kept as overwritten, and the new write is pushed as usual).
  local ASIDE = 1
  local aside = {} -- name -> { backup, current, origin, due, deleted, relays = { function, ... } }
  local asideArmed = false
  local function settleAside()
    asideArmed = false
    local t, nextDue = now(), nil
    for name, e in pairs(aside) do
      if t >= e.due then
        aside[name] = nil
        if exists(e.backup) then
          if exists(e.current) then
            keepVersion(e.backup, name, e.origin, "overwritten")
          else
            if e.deleted ~= nil then e.deleted(e.backup) else os.remove(e.backup) end
            for _, relay in ipairs(e.relays) do relay() end
          end
        end
      elseif nextDue == nil or e.due < nextDue then
        nextDue = e.due
      end
    end
    if nextDue ~= nil then
      asideArmed = true
      alarm(nextDue, settleAside)
    end
  end
  local function putAside(source, name, backup, origin, deleted, relay)
    local e = aside[name]
    if e == nil or e.backup ~= backup then
      e = { backup = backup, current = source .. name:sub(2), origin = origin, due = now() + ASIDE, relays = {} }
      aside[name] = e
    end
    if deleted ~= nil then e.deleted = deleted end
    if relay ~= nil then e.relays[#e.relays + 1] = relay end
    if not asideArmed then
      asideArmed = true
      alarm(e.due, settleAside)
    end
  end

  -- Every sync sees every event (same source, same excludes); the first decides, the
  -- others reuse its verdict: "new" (nothing replaced), "replaced" (the arrival won) or
  -- "kept" (the replaced version won and is back in place).
  local verdicts = {}
  local function arbitrate(source, pdir, path, name)
    return shared(verdicts, path .. "\0" .. name, function()
      local backup = source .. pdir:sub(2) .. REPLACED:sub(2) .. name:sub(2)
      local current = source .. name:sub(2)
      -- The version this arrival moved aside (5b) is weighed here, not deleted.
      if aside[name] ~= nil and aside[name].backup == backup then aside[name] = nil end
      local origin = originOf(pdir)
      local verdict = "new"
      if exists(backup) then
        local backupWins, tieSec, tieNsec, arrivalMtime = false, nil, nil, nil
        if exists(current) then backupWins, tieSec, tieNsec, arrivalMtime = beats(backup, current) end
        -- 6. The losing arrival is kept as a conflict (linked first: the name never disappears).
        if backupWins and VERSIONS ~= nil then keepVersion(current, name, origin, "conflict", true) end
        if backupWins and os.rename(backup, current) then
          verdict = "kept"
          if tieSec == nil then bumpKept(current) end
          log("Normal", "lsyncd-cluster: kept the newer version of ", name, " (", pdir, " sent an older one)")
        else
          -- 6. Written before the version it replaces had even reached the exchange: its
          -- writer never saw that version, so it is a conflict, not an overwrite.
          local before = lastArrival(name)
          if before ~= nil and before.origin ~= origin and arrivalMtime ~= nil and arrivalMtime < before.time then
            keepVersion(backup, name, before.origin, "conflict")
          else
            keepVersion(backup, name, origin, "overwritten")
          end
          verdict = "replaced"
        end
        if tieSec ~= nil then bump(current, tieSec, tieNsec) end
      end
      if VERSIONS ~= nil and verdict ~= "kept" then arrived(name, origin) end
      return verdict
    end)
  end

  -- Pushes that landed while this lsyncd was not running (sshd starts first) left their
  -- replaced versions unweighed: weigh them now, before the startup sync sends the tree.
  if Syncs.size() > 0 then
    local source = Syncs.get(1).source
    local list = output("find " .. shq(source .. TEMP:sub(2)) .. " -mindepth 3 -path " .. shq("*" .. REPLACED .. "*")
      .. " \\( -type f -o -type l \\) -print0 2>/dev/null")
    for backup in list:gmatch("([^\0]+)\0") do
      local name = backup:match("^" .. (source .. TEMP:sub(2)):gsub("%p", "%%%0") .. "[^/]+" .. REPLACED:gsub("%p", "%%%0") .. "(.+)$")
      if name ~= nil then
        local current = source .. name
        local backupWins, tieSec, tieNsec = false, nil, nil
        if exists(current) then backupWins, tieSec, tieNsec = beats(backup, current) end
        local origin = originOf(backup:sub(#source):match("^(" .. TEMP:gsub("%p", "%%%0") .. "[^/]+/)"))
        if backupWins and VERSIONS ~= nil then keepVersion(current, "/" .. name, origin, "conflict", true) end
        if backupWins and os.rename(backup, current) then
          if tieSec == nil then bumpKept(current) end
          log("Normal", "lsyncd-cluster: at startup kept the newer version of /", name)
        elseif exists(current) then
          keepVersion(backup, "/" .. name, origin, "overwritten")
        else
          keepVersion(backup, "/" .. name, origin, "deleted")
        end
        if tieSec ~= nil then bump(current, tieSec, tieNsec) end
      end
    end
  end

  -- 7. The mass-delete fuse: per origin, when its deletes came (a FIFO of times), the
  -- deletes waiting FUSE_DELAY to be relayed, and whether it is tripped (its .held list
  -- exists: so a tripped fuse survives any restart, and the operator's tool resets it by
  -- removing the list).
  local relays = {} -- sync index -> function(time, path) queueing a delete there
  local fuses = {}
  local function heldFile(origin)
    return FUSE_DIR .. origin .. ".held"
  end
  local function fuseOf(origin)
    local f = fuses[origin]
    if f == nil then
      -- relayed: the deletes already relayed within the window, { path, time } (a FIFO too)
      f = { times = {}, head = 1, tail = 0, pending = {}, armed = false, relayed = {}, rhead = 1, rtail = 0 }
      fuses[origin] = f
    end
    f.tripped = lfs.symlinkattributes(heldFile(origin), "mode") == "file"
    return f
  end
  -- An rsync filter pattern matching exactly path: with a wildcard character in it,
  -- rsync reads backslashes as escapes, so then every special one is escaped.
  local function exactPattern(path)
    if path:find("[%*%?%[]") then return (path:gsub("[%*%?%[\\]", "\\%0")) end
    return path
  end
  local function hold(origin, paths)
    local list = io.open(heldFile(origin), "a")
    local rules = io.open(FUSE_RULES, "a")
    if list == nil or rules == nil then
      log("Error", "lsyncd-cluster: cannot write the delete fuse's state in ", FUSE_DIR)
    end
    for _, p in ipairs(paths) do
      if list then list:write(p, "\0") end
      -- A name with a line break cannot be one rule; it stays held in the list only.
      if rules and not p:find("[\r\n]") then rules:write("P ", exactPattern(p), "\n") end
    end
    if list then list:close() end
    if rules then rules:close() end
  end
  local function relayAll(f, list, source)
    local t = os.time()
    for _, d in ipairs(list) do
      -- Written again meanwhile: relaying the delete now would remove the new file.
      if lfs.symlinkattributes(source .. d.path:sub(2), "mode") == nil then
        for n = 1, #relays do relays[n](d.time, d.path) end
        f.rtail = f.rtail + 1
        f.relayed[f.rtail] = { path = d.path, time = d.arrived or t }
      end
    end
    if #list > 0 then log("Normal", "lsyncd-cluster: relayed ", #list, " delete(s)") end
  end
  -- A burst may come in several pushes: the deletes of an origin wait until none came
  -- from it for FUSE_DELAY seconds (at most FUSE_SECONDS in all), directories (origin "")
  -- until no origin has deletes waiting, so their files are decided first.
  local function busy()
    for o, f in pairs(fuses) do
      if o ~= "" and #f.pending > 0 then return true end
    end
    return false
  end
  local function flush(origin, source)
    local f = fuses[origin]
    local t = now()
    local quietUntil = f.last + FUSE_DELAY
    if #f.pending > 0 and ((t < quietUntil and os.time() - f.first < FUSE_SECONDS) or (origin == "" and busy())) then
      alarm(t < quietUntil and quietUntil or t + 0.5, function() flush(origin, source) end)
      return
    end
    f.armed = false
    local list = f.pending
    f.pending = {}
    if origin ~= "" and fuseOf(origin).tripped then
      local paths = {}
      for i, d in ipairs(list) do paths[i] = d.path end
      hold(origin, paths)
    else
      relayAll(f, list, source)
    end
  end
  -- Called once per delete (by the first sync) with the origin ("" for a directory that
  -- disappeared, which names none).
  local function fuseDelete(source, origin, time, path)
    local f = fuseOf(origin)
    if origin ~= "" then
      local t = os.time()
      if isFile(path) then
        f.tail = f.tail + 1
        f.times[f.tail] = t
      end
      while f.head <= f.tail and f.times[f.head] <= t - FUSE_SECONDS do
        f.times[f.head] = nil
        f.head = f.head + 1
      end
      while f.rhead <= f.rtail and f.relayed[f.rhead].time <= t - FUSE_SECONDS do
        f.relayed[f.rhead] = nil
        f.rhead = f.rhead + 1
      end
      local count = f.tail - f.head + 1
      if not f.tripped and count > FUSE_FILES then
        f.tripped = true
        local since = io.open(FUSE_DIR .. origin .. ".since", "w")
        if since then since:write(f.times[f.head], "\n") since:close() end
        -- The burst is every delete the window counted: those already relayed are listed
        -- too (undo brings them back on every node; for release they are done already).
        local before = {}
        for i = f.rhead, f.rtail do before[#before + 1] = f.relayed[i].path end
        f.relayed, f.rhead, f.rtail = {}, 1, 0
        hold(origin, before)
        log("Normal", "lsyncd-cluster: delete fuse tripped: ", count, " deletes from ", origin, " within ",
          FUSE_SECONDS, " s; its deletes are held (lsyncd-cluster-deletes release|undo ", origin, ")")
      end
      if f.tripped then
        -- Those still waiting are held too, in order, then this one.
        local paths = {}
        for i, d in ipairs(f.pending) do paths[i] = d.path end
        paths[#paths + 1] = path
        f.pending = {}
        return hold(origin, paths)
      end
    end
    if #f.pending == 0 then f.first = os.time() end
    f.pending[#f.pending + 1] = { time = time, path = path, arrived = os.time() }
    f.last = now()
    if not f.armed then
      f.armed = true
      alarm(f.last + FUSE_DELAY, function() flush(origin, source) end)
    end
  end

  -- 8. New directories. lsyncd 2.2.3 watches a new directory once it reads the directory's
  -- create event; what is in it by then raises no event. lsyncd's own delay() makes up for
  -- that (its recurse(): a create for every entry, at once, complete or not), but the
  -- direct queueing of a directory's create (4., issue 14) skipped it: whatever a writer,
  -- or a peer's push, put there before a busy lsyncd got to the event was never pushed,
  -- and the hosts stayed different until the audit (seen in CI: a burst into a new
  -- directory; on the demo, 3 of 5 files of a directory moved in from another
  -- filesystem). So the intake walks it: lsyncd adds the watches (the new directory's and
  -- its subdirectories') before the syncs get the event, so one walk then finds
  -- everything no event will name; what lands later raises events of its own. A file found
  -- waits like any new file (1.) and goes out as a local write: had it arrived from a peer,
  -- the push is a no-op (same size and mtime), while a local file taken for an arrival
  -- would be lost (a tree restored with `cp -a` keeps the sync user as owner). A
  -- directory the sync user made on a node was received (the receiving rsync daemon is
  -- that user's only writer, and a directory has no content to lose): not pushed back,
  -- which cost one rsync run per receiving node for every new directory (measured).
  -- A link is never walked into (lstat first).
  local SYNC_UID = tonumber((output("id -u -- " .. shq(SYNC_USER) .. " 2>/dev/null"):match("^(%d+)")))
  local function receivedDir(dir)
    return SYNC_UID ~= nil and lfs.symlinkattributes(dir, "uid") == SYNC_UID
  end
  local function excluded(s, path)
    return type(s.excludes) == "table" and type(s.excludes.test) == "function" and s.excludes:test(path)
  end
  -- (Every sync of a host has the same source and excludes: what one walks, all would.)
  local function walk(s, dir, found)
    if lfs.symlinkattributes(s.source .. dir:sub(2), "mode") ~= "directory" then return end
    local ok, iter, state = pcall(lfs.dir, s.source .. dir:sub(2))
    if not ok then return end
    for name in iter, state do
      if name ~= "." and name ~= ".." then
        local p = dir .. name
        local mode = lfs.symlinkattributes(s.source .. p:sub(2), "mode")
        if mode == "directory" then p = p .. "/" end
        if mode ~= nil and not excluded(s, p) then
          if mode == "directory" then
            found[#found + 1] = { path = p, received = receivedDir(s.source .. p:sub(2)) }
            walk(s, p, found)
          else
            found[#found + 1] = { path = p }
          end
        end
      end
    end
  end
  -- The first sync to get the event walks, the others reuse what it found.
  local walks = {}
  local function newDirectory(s, dir)
    local w = shared(walks, dir, function()
      local found = {}
      walk(s, dir, found)
      return { received = receivedDir(s.source .. dir:sub(2)), found = found }
    end)
    return w.received, w.found
  end

  -- 9. A rename lsyncd did not pair. lsyncd 2.2.3 pairs a rename's two inotify events only
  -- when both are in the queue when it reads; the kernel queues them one after the other,
  -- and a read on the other CPU in between splits them (seen in CI, under load): rsync's
  -- rename of an arrival then comes as a delete of its temp file and, later, a create of
  -- the name, and a node took the create for a local write and pushed the arrival back a
  -- second later; when another node had deleted the name meanwhile, that echo brought it
  -- back everywhere (CI: 499 of 500 deletes held, pushes.log: node03 pushed burst2/458.bin
  -- a second after receiving it, after node01's delete). So a temp file's lone delete is
  -- remembered for UNPAIRED seconds by the name rsync made it for (with --temp-dir it is
  -- "<name>.XXXXXX", <name> cut short to fit NAME_MAX; measured, rsync 3.5), and a create
  -- of that name owned by the sync user (the receiving daemon made it) is that arrival: the
  -- kernel emits both halves of a rename across directories in one go (no other such
  -- rename between them), so its own temp half is the newest of that name. Not a file a new
  -- directory's walk (8.) finds: rsync renamed it there after making the directory, so its
  -- temp half comes after the directory's create, which the walk answers; a temp half of
  -- that name there at walk time is another file's, and names repeat across directories
  -- (p1.jpg in every upload). Taken for its own, the exchange held that file for an
  -- arrival from the node the half named and sent it to every node but that one, which
  -- never got it (seen in randomized.test.ts after exchange outages, when every node pushes
  -- its new directories at once; for certain in convergence.test.ts).
  local UNPAIRED = 2
  local unpaired, unpairedCount = {}, 0 -- name -> { pdir, from, due }
  -- The name a temp file in pdir was made for ("<name>.XXXXXX"), or nil.
  local function tempNameOf(pdir, from)
    return from:sub(#pdir + 1):match("^([^/]+)%.[^./]+$")
  end
  -- Whether short is full as rsync cut it short for its temp name (NAME_MAX).
  local function cutShort(short, full)
    return #short > 200 and full:sub(1, #short) == short
  end
  -- The key of names (by the names temp files were made for) that is base's, or nil.
  local function nameIn(names, base)
    if names[base] ~= nil then return base end
    if #base > 200 then
      for name in pairs(names) do
        if cutShort(name, base) then return name end
      end
    end
    return nil
  end
  local LATE = 60
  local late, lateCount = {}, 0 -- name -> due
  local function lateArrival(base)
    local name = nameIn(late, base)
    return name ~= nil and now() <= late[name]
  end
  local function rememberUnpaired(pdir, from)
    local name = tempNameOf(pdir, from)
    if name == nil then return end
    if unpaired[name] == nil then
      if unpairedCount > 1000 then unpaired, unpairedCount = {}, 0 end
      unpairedCount = unpairedCount + 1
    end
    unpaired[name] = { pdir = pdir, from = from, due = now() + UNPAIRED }
    -- 10. Longer, for one question only: a create of this name is never taken for a fresh
    -- local file (the split arrival may be read later than 9. waits, the file gone by then).
    if lateCount > 20000 then late, lateCount = {}, 0 end
    if late[name] == nil then lateCount = lateCount + 1 end
    late[name] = now() + LATE
  end
  -- Every sync gets the create: the first decides, the others reuse its answer (a kept
  -- version renamed over the name by arbitrate() would have another owner for them).
  local splitAnswers = {}
  local function unpairedArrival(source, path)
    -- 1 s: an answer a sync never asked for (it returned before) is not kept.
    return shared(splitAnswers, path, function()
      local name = nameIn(unpaired, path:match("([^/]+)$") or "")
      if name == nil then return false end
      local u = unpaired[name]
      if now() > u.due then
        unpaired[name], unpairedCount = nil, unpairedCount - 1
      elseif SYNC_UID ~= nil and lfs.symlinkattributes(source .. path:sub(2), "uid") == SYNC_UID then
        unpaired[name], unpairedCount = nil, unpairedCount - 1
        return u
      end
      return false
    end, 1)
  end

  for n = 1, Syncs.size() do
    local s = Syncs.get(n)
    local stock = s.delay
    local origin = ORIGIN_OF[s.config.target]

    -- 4. Direct queueing, when lsyncd's internals are the ones it was written against.
    local Delay = upvalue(stock, "Delay")
    local q = s.delays
    local direct = type(Delay) == "table" and type(Delay.new) == "function"
      and type(q) == "table" and type(q.push) == "function" and type(q.first) == "function"
      and type(q.last) == "function" and type(q.size) == "function"
      and type(s.excludes) == "table" and type(s.excludes.test) == "function"
      and s.filters == nil
    -- Said at the first event: while the config loads, lsyncd's log file is not open yet.
    local announced = false
    local function announce()
      announced = true
      if direct then
        log("Normal", "lsyncd-cluster: direct queueing on for ", s.config.target)
      else
        log("Normal", "lsyncd-cluster: direct queueing off for ", s.config.target, " (unknown lsyncd internals)")
      end
    end
    local queued = {} -- path -> the delay queued directly for it
    -- Up to which queue position lsyncd's own code may have queued something the direct
    -- path must not bypass: false = nothing, true = unknown (startup: lsyncd's Init may be
    -- queued), so until the queue empties.
    local fence = true

    -- 10. Files created here that have not gone out yet: no peer has the name from us.
    local fresh = {} -- path -> true, from its create until it is queued, arrives or goes
    -- What a queued or running delay may send as it is when its rsync runs: every path
    -- lsyncd's own queueing took (a directory's delete or move goes as "/d/***") and every
    -- file queued directly (a directory queued directly goes alone). Forgotten once the
    -- queue is empty. A file created under one of them may go out before it is renamed.
    local pending = {}
    local function pend(path)
      if path ~= nil then pending[path] = true end
    end
    local function mayGoOut(path)
      if pending[path] then return true end
      local dir = path:match("^(.*/)[^/]+/?$")
      while dir ~= nil do
        if pending[dir] then return true end
        dir = dir:match("^(.*/)[^/]+/$")
      end
      return false
    end
    -- lsyncd's startup sync (Init) sends the whole tree; it heads the queue until it is done.
    local function initQueued()
      local first = q:size() > 0 and q:first() or nil
      return first ~= nil and first.etype == "Init"
    end
    -- Fresh: made here, and nothing queued may send it before its rename (the startup
    -- sync, a push of the name or of a directory above it). Not what the sync user made:
    -- an arrival whose split rename 9. did not recognise (it came too late).
    local function markFresh(path)
      if direct and q:size() == 0 then pending = {} end
      -- A file already gone when its create is read passes the owner test: the name of a
      -- split arrival's temp file (late) still says what it was.
      fresh[path] = (direct and not initQueued() and not mayGoOut(path)
        and lfs.symlinkattributes(s.source .. path:sub(2), "uid") ~= SYNC_UID
        and not lateArrival(path:match("([^/]+)$") or "")) or nil
    end
    -- A directory moved or deleted: what was fresh in it has another name now, or none.
    local function forgetUnder(dir)
      for p in pairs(fresh) do
        if starts(p, dir) then fresh[p] = nil end
      end
    end

    -- A directory's own create or change too (not the sync root): after one that lsyncd
    -- queued itself, every arrival of the burst into it went through lsyncd's quadratic
    -- delay() behind the fence (issue 14, measured).
    local function plain(etype, path, path2)
      return path2 == nil and DIRECT[etype] == true and path ~= "/"
    end

    -- lsyncd's own delay(): it may combine, block or split. A plain file event it simply
    -- queued is remembered like a direct one; after anything else, every delay queued so
    -- far (positions only grow while the queue is not empty) is fenced off.
    local function slow(etype, time, path, path2)
      pend(path)
      pend(path2)
      local size = q:size()
      local before = size > 0 and q:last() or nil
      stock(s, etype, time, path, path2)
      if not direct or q:size() == 0 then return end
      local last = q:last()
      if fence == true then fence = last.dpos end -- covers all so far, Init included
      if plain(etype, path, path2) and q:size() == size + 1 and last ~= before
        and last.path == path and last.path2 == nil then
        queued[path] = last
      else
        fence = last.dpos
      end
    end

    local function enqueue(etype, time, path)
      if not direct or not plain(etype, path, nil) then
        return slow(etype, time, path, nil)
      end
      if q:size() == 0 then
        queued, fence, pending = {}, false, {}
      elseif fence ~= false then
        if fence == true or q:first().dpos <= fence then
          return slow(etype, time, path, nil)
        end
        fence = false
      end
      local old = queued[path]
      if old ~= nil and q[old.dpos] == old then
        return slow(etype, time, path, nil)
      end
      if s.excludes:test(path) then return end
      local alarm
      if time and s.config.delay then alarm = time + s.config.delay else alarm = now() end
      local d = Delay.new(etype, s, alarm, path, nil)
      d.dpos = q:push(d)
      queued[path] = d
      if isFile(path) then pend(path) end
      return true
    end

    -- 1. A file written here waits until it has been quiet: QUIET seconds after its last
    -- close-write (a writer that reopens the file per chunk closes it many times), and a
    -- new file without close-write (a link, a move-in) until its size held still for
    -- max(QUIET, SETTLE). Each wait length has its own FIFO (dues grow in it) and alarm.
    local held = {} -- path -> its newest entry { path, due, size, holder }
    local function holder(seconds)
      local fifo, head, tail = {}, 1, 0
      local armed = false
      local self = {}
      local function sweep()
        armed = false
        local t = now()
        while head <= tail do
          local e = fifo[head]
          if held[e.path] == e then
            if t < e.due then
              armed = true
              alarm(e.due, sweep)
              return
            end
            local size = sizeOf(s.source .. e.path:sub(2))
            if size ~= nil and size ~= e.size then
              tail = tail + 1
              fifo[tail] = { path = e.path, due = t + seconds, size = size, holder = self }
              held[e.path] = fifo[tail]
            else
              held[e.path] = nil
              fresh[e.path] = nil
              enqueue("Create", t, e.path)
            end
          end
          fifo[head] = nil
          head = head + 1
        end
        fifo, head, tail = {}, 1, 0
      end
      self.hold = function(path)
        local e = { path = path, due = now() + seconds, size = sizeOf(s.source .. path:sub(2)), holder = self }
        tail = tail + 1
        fifo[tail] = e
        held[path] = e
        if not armed then
          armed = true
          alarm(e.due, sweep)
        end
      end
      return self
    end
    relays[n] = function(time, path) slow("Delete", time, path, nil) end
    local holdNew = holder(math.max(QUIET, SETTLE))
    local holdWritten = QUIET >= SETTLE and holdNew or holder(QUIET)

    -- 2./3./5. rsync renamed a complete file (from) from a peer into place (name).
    local function arrival(pdir, from, name, time)
      held[name] = nil
      fresh[name] = nil
      local verdict = arbitrate(s.source, pdir, from, name)
      if verdict == "new" then
        if RELAY_ARRIVALS and not (origin ~= nil and pdir == origin) then
          return enqueue("Create", time, name)
        end
        return
      end
      -- Two versions met: the exchange sends the final one to every node (the pusher
      -- included); a node sends back only a version of its own that it kept.
      if RELAY_ARRIVALS or verdict == "kept" then return enqueue("Create", time, name) end
    end

    -- 8. What the walk of a new directory found, for this sync: files as new files,
    -- directories (not yet queued: a second event would fence the direct path off) at once.
    -- On a node, what a walk found that the sync user made, held as a new file, by base
    -- name: the temp half of its own rename comes after the walk (9.), and then it was
    -- received and is not pushed back. Pushed back, it was not always a no-op: when
    -- another node had deleted the name meanwhile, the exchange took it for new, sent it
    -- everywhere again and skipped relaying the delete (written again meanwhile; 7.).
    local walked, walkedCount = {}, 0 -- base name -> { { path, due }, ... }
    local function rememberWalked(path)
      if RELAY_ARRIVALS or SYNC_UID == nil or lfs.symlinkattributes(s.source .. path:sub(2), "uid") ~= SYNC_UID then return end
      local base = path:match("([^/]+)$")
      if walkedCount > 10000 then walked, walkedCount = {}, 0 end
      walked[base] = walked[base] or {}
      table.insert(walked[base], { path = path, due = now() + UNPAIRED })
      walkedCount = walkedCount + 1
    end
    -- The temp half (a lone delete in pdir) of a file a walk found and holds: received.
    local function walkedReceived(pdir, from)
      local name = tempNameOf(pdir, from)
      if name == nil then return end
      local base = name
      if walked[base] == nil and #name > 200 then
        for b in pairs(walked) do
          if cutShort(name, b) then base = b break end
        end
      end
      local list = walked[base]
      while list ~= nil and #list > 0 do
        local w = table.remove(list, 1)
        walkedCount = walkedCount - 1
        if #list == 0 then walked[base] = nil end
        if now() <= w.due and held[w.path] ~= nil then
          held[w.path] = nil
          return
        end
      end
    end

    local function takeIn(time, entries)
      for _, e in ipairs(entries) do
        if isFile(e.path) then
          -- Never matched to a temp half already read (9.): that of its own rename comes
          -- after the directory's create in lsyncd's events, so one there now is another
          -- file's. On a node, the one that comes next is its own.
          fresh[e.path] = nil
          if held[e.path] == nil then
            holdNew.hold(e.path)
            rememberWalked(e.path)
          end
        elseif RELAY_ARRIVALS or not e.received then
          local old = queued[e.path]
          if old == nil or q[old.dpos] ~= old then enqueue("Create", time, e.path) end
        end
      end
    end

    s.delay = function(self, etype, time, path, path2)
      if not announced then announce() end
      if starts(path, TEMP) then
        if etype == "Delete" and path2 == nil then
          local pdir, restore = pusherDirOf(path)
          if pdir ~= nil and not restore then
            if not RELAY_ARRIVALS then walkedReceived(pdir, path) end
            rememberUnpaired(pdir, path)
          end
          return
        end
        if etype ~= "Move" or path2 == nil or starts(path2, TEMP) then return end
        local pdir, restore = pusherDirOf(path)
        if pdir == nil or restore then return end
        return arrival(pdir, path, path2, time)
      end
      if etype == "Move" and starts(path2, TEMP) then
        -- 5. rsync moved what was at path into a pusher's .replaced/: a deleted directory,
        -- or a file deleted or (5b) replaced, decided once the arrival could have come.
        held[path], fresh[path] = nil, nil
        if not isFile(path) then forgetUnder(path) end
        local first = firstSight("M" .. path2)
        local pdir = pusherDirOf(path2)
        local from = pdir ~= nil and originOf(pdir) or "unknown"
        if not isFile(path2) then
          -- 7. The first sync to see the delete decides for all.
          if first and FUSE_FILES > 0 then fuseDelete(s.source, from, time, path) end
          if FUSE_FILES > 0 then return end
          return slow("Delete", time, path, nil)
        end
        local deleted = nil
        if first then
          deleted = function(backup)
            keepVersion(backup, path, from, "deleted")
            if FUSE_FILES > 0 then fuseDelete(s.source, from, now(), path) end
          end
        end
        local relay = nil
        if FUSE_FILES == 0 then relay = function() slow("Delete", now(), path, nil) end end
        return putAside(s.source, path, s.source .. path2:sub(2), from, deleted, relay)
      end
      if (VERSIONS ~= nil or FUSE_FILES > 0) and etype == "Delete" and path ~= nil then
        held[path], fresh[path] = nil, nil
        if not isFile(path) then forgetUnder(path) end
        if firstSight("D" .. path) then
          local from = ""
          if isFile(path) then
            local copy, pdir = replacedCopy(s.source, path)
            if copy ~= nil then
              from = originOf(pdir)
              keepVersion(copy, path, from, "deleted")
            else
              -- Gone without a replaced copy: a push that kept none (lsyncd's always do; a
              -- stolen key's need not) or a local delete. It still counts for the fuse.
              from = "unknown"
            end
          end
          if FUSE_FILES > 0 then fuseDelete(s.source, from, time, path) end
        end
        if FUSE_FILES > 0 then return end
        return slow("Delete", time, path, nil)
      end
      if etype == "Create" and isFile(path) then
        local u = unpairedArrival(s.source, path)
        if u then return arrival(u.pdir, u.from, path, time) end
        markFresh(path)
        return holdNew.hold(path)
      end
      if etype == "Create" and path ~= "/" and not excluded(s, path) then
        local dirReceived, entries = newDirectory(s, path)
        if RELAY_ARRIVALS or not dirReceived then
          -- Fenced off the direct path: lsyncd's own delay() took it, and walks it itself.
          if not enqueue("Create", time, path) then return end
        end
        return takeIn(time, entries)
      end
      if etype == "Modify" and QUIET > 0 and isFile(path) then
        return holdWritten.hold(path)
      end
      -- A change of attributes while the file is being written waits with it.
      if etype == "Attrib" and path2 == nil and held[path] ~= nil then return end
      -- 10. A file written under a temp name and renamed in (README "Writers": the way that
      -- is never served partial) is, to the peers, only the new name's create, complete
      -- now: it goes out at once, directly. lsyncd's own Move split it into a delete of a
      -- name no peer had and a create, and fenced the direct path off: a burst of 2,000
      -- such writes took 141-175 rsync runs and 5.5-5.9 s, node01's lsyncd 3.0-3.3 CPU-s
      -- (issue 14, measured), against 16-19 runs and 3.0-3.3 s written in place. Likewise
      -- any lone delete of a fresh file (a local rename lsyncd split, as 9. describes for
      -- rsync's, or a write then rm): dropped, where a delete would go out (on the exchange
      -- the versions and fuse branch above takes every delete first); a split rename's
      -- create waits for quiet as any new file does.
      if path ~= nil and not isFile(path) and (etype == "Move" or etype == "Delete") then forgetUnder(path) end
      if path ~= nil and fresh[path] and isFile(path) then
        if etype == "Move" and path2 ~= nil and isFile(path2) then
          fresh[path], held[path], fresh[path2], held[path2] = nil, nil, nil, nil
          return enqueue("Create", time, path2)
        end
        if etype == "Delete" and path2 == nil then
          fresh[path], held[path] = nil, nil
          return
        end
      end
      if path ~= nil then held[path], fresh[path] = nil, nil end
      if path2 ~= nil then
        held[path2], fresh[path2] = nil, nil
        return slow(etype, time, path, path2)
      end
      return enqueue(etype, time, path)
    end
  end
end
