// The action every sync{} runs instead of default.rsync's own, rendered ahead of them.
//
// default.rsync sends each batch as an include filter (one rule per path, then
// `--exclude=*`) with `-r --delete` over the whole tree: rsync on both ends walks the
// directories on the way and matches every entry against every rule, so one batch costs
// O(entries × batch) — measured with 1,000 new files: 0.12 CPU-s of rsync user time in
// a directory of 4,000 files, 0.57 in one of 40,000, against 0.01–0.03 for the same
// files named in a file list. Images pile up in few, large directories; bursts are where
// it hurts. So a batch of plain new or changed entries (files, and directories as
// themselves; no delete, no move) goes as a NUL-separated `--files-from` list that touches
// exactly those (`--ignore-missing-args`: one removed since is skipped; its delete follows
// as its own event). Directories joined the list in issue 14: a burst of 2,000 files into a
// new directory cost the hosts 6.5 CPU-s against 2.5 for the same burst into an existing
// one, every batch after the directory's going as a filter list. Everything else —
// deletes, split moves, the sync root — and any lsyncd that lacks what this relies on keep
// default.rsync's own action, delete semantics included.
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
import { readFileSync } from "fs";
import { join } from "path";
import { lua } from "../quote";

/**
 * The Lua itself is lua/lsc-action.lua (luacheck runs on every rendered config); the one
 * value it takes, the fuse's protect rules file (absent on nodes), comes first.
 */
export function renderAction(protectRules?: string): string {
  const value = `local LSC_PROTECT_RULES = ${protectRules !== undefined ? lua(protectRules) : "nil"}\n`;
  return `\n${value}${readFileSync(join(__dirname, "lua", "lsc-action.lua"), "utf8")}`;
}
