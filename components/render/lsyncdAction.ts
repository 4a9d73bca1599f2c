// The action every sync{} runs instead of default.rsync's own, rendered ahead of them.
//
// default.rsync sends each batch as an include filter (one rule per path, then
// `--exclude=*`) with `-r --delete` over the whole tree: rsync on both ends walks the
// directories on the way and matches every entry against every rule, so one batch costs
// O(entries × batch) — measured with 1,000 new files: 0.12 CPU-s of rsync user time in
// a directory of 4,000 files, 0.57 in one of 40,000, against 0.01–0.03 for the same
// files named in a file list. Images pile up in few, large directories; bursts are where
// it hurts. So a batch of plain new or changed files (no directory, no delete, no move)
// goes as a NUL-separated `--files-from` list that touches exactly those files
// (`--ignore-missing-args`: a file removed since is skipped; its delete follows as its own
// event). Everything else — deletes, directories, split moves — and any lsyncd that lacks
// what this relies on keep default.rsync's own action, delete semantics included.
// lsyncd hands it only batches that do not depend on earlier ones (a delay blocked by one
// not in the batch is left for later), so the split changes no ordering it guarantees.
//
// The startup sync (lsyncd's Init: the whole tree, when lsyncd starts) adds `--update`: it
// must not replace what the receiver wrote meanwhile with an older copy. A pushed version
// lands first and is only then weighed by the receiver's intake (lsyncdIntake.ts, 5.), so
// without this a restarted exchange put its old copies over every node's newer ones and
// nginx served them until the intakes put the new ones back (measured: 30 of 30). With
// --modify-window=-1, rsync's --update skips a file only when the receiver's is at least
// two whole seconds newer (rsync 3.5.0, measured), i.e. only a sure loser; closer
// versions still land and are weighed.
//
// On the exchange, while the mass-delete fuse holds deletes (issue 13, lsyncdIntake.ts 7.),
// every batch that may delete carries the fuse's protect rules (`--filter=merge <file>`,
// `P /path` per held path), so a directory relayed with --delete keeps the held files on
// the nodes. Only once the file exists: a merge file that is missing fails the rsync.
import { lua } from "../quote";

export function renderAction(protectRules?: string): string {
  return `
-- lsyncd-cluster: plain file batches as a file list (components/render/lsyncdAction.ts).
local lscAction
do
  local PROTECT = ${protectRules !== undefined ? lua(protectRules) : "nil"}
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
    log("Normal", "Calling rsync with file-list of new/modified files\\n", table.concat(paths, "\\n"))
    spawn(elist, config.rsync.binary, "<", table.concat(paths, "\\000"), computed,
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
`;
}
