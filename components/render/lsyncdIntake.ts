// The Lua block appended to every lsyncd.conf.lua: it wraps how each sync{} takes in
// events (lsyncd 2.2.x keeps the syncs in the `Syncs` upvalue of `sync`). Its jobs:
//
// 1. Complete files only. lsyncd acts on IN_CREATE, so with a low delay a file still being
//    written is pushed half-done and its peers serve it truncated (measured). A file written
//    here is held until it has been quiet for QUIET seconds after its last close-write
//    (issue 15: an upload handler that reopens the file per 64 kB chunk closes it 32 times
//    for 2 MB; taking the first close-write as "complete" had peers serve 64 kB for
//    seconds), or, when no close-write comes (a hard link, symlink or move-in), until its
//    size has stopped changing for max(QUIET, SETTLE) seconds.
// 2. Arrivals. Events inside rsync's temp dir are dropped; rsync's rename of a finished file
//    out of it is, on the exchange, relayed at once as that file (on a node, dropped: a node
//    pushing back what it received is a pure echo, and a late echo re-creates on the
//    exchange a file another node deleted meanwhile — seen in the e2e suite).
// 3. Origin-aware relay. Every pusher writes into its own temp dir on its target
//    (`<temp>/<pusher>/`), so the rename names where a file came from, and the exchange's
//    sync towards that node does not send the file straight back (a whole rsync run on
//    both ends that transfers nothing).
// 4. O(1) intake. lsyncd 2.2.3 compares every new event with every queued one (its
//    Combiner loop, through metatable lookups) and keeps user alarms in a sorted array: a
//    burst of n new files costs O(n²) Lua (measured: ~1 CPU-s per sync for 2,000 files). A
//    plain file event (create, modify, attrib) whose path is not queued yet cannot combine
//    with anything while the queue holds only such events, so it is queued directly;
//    anything else (directories, moves, deletes, a second event for a queued path) goes
//    through lsyncd's own code, and the direct path stays off until everything queued up
//    to then has left the queue (also at startup, when lsyncd's Init may be queued). Settle checks share one alarm. Should a future lsyncd lack these
//    internals, the direct path is never taken (a log line says so) and only speed is lost.
// 5. One version per name everywhere (issue 15). rsync cannot order two versions written in
//    the same second (its --update compares whole seconds, and with --modify-window=-1 it
//    lets an older file replace a newer one), and two pushes of one name can land on the
//    exchange at once. So every push keeps what it replaces (`--backup` into the pusher's
//    `.replaced/` dir: a hard link where the sync user may make one, else a rename) and the receiver decides
//    here, when the rename lands: the newer mtime to the nanosecond wins, an exact tie goes
//    to the larger sha256 (whose mtime then moves 1 ns on, so rsync's quick check carries it). A replaced version that wins is put back (one atomic rename)
//    and sent to the pusher; on the exchange the final version of a name that met another
//    goes to every node, its pusher included, so whoever lost holds the winner and whoever
//    held a better one fights back the same way. The rule is one total order on every host,
//    so this ends. A file rsync deletes arrives as a move into `.replaced/`: a delete; but
//    so does a replaced file the sync user may not hard-link (one a local writer owns), so
//    a move into `.replaced/` waits a second for the arrival that would make it a replace.
// 6. Nothing lost (issue 13), on the exchange. What a push replaced or deleted, and an
//    arrival that lost, is not removed but renamed (same filesystem: O(1), no copy) into
//    the versions area as `<versions>/<path>/<UTC time>~<origin>~<kind>`, kind
//    overwritten | deleted | conflict. A conflict is a version nobody chose to replace: an
//    arrival older than what the exchange holds, or a version replaced by a push from
//    another node whose file was written before that version even reached the exchange.
// 7. The mass-delete fuse, on the exchange. Deletes from one origin wait FUSE_DELAY
//    seconds before they are relayed; when more than FUSE_FILES of them came within
//    FUSE_SECONDS, the origin's fuse trips: its deletes are held (listed in
//    `<fuse>/<origin>.held`, and each held path is a `P` rule in the protect file that every
//    relay carries, so no rsync --delete removes it on a node) until the operator runs
//    `lsyncd-cluster-deletes release|undo`, which removes the list. Writes keep flowing.
// 8. New directories. lsyncd 2.2.3 watches a new directory when it reads the directory's
//    create event, and what is in it by then raises no event; lsyncd's own delay() walks
//    the directory for that (its recurse()), which the direct queueing of 4. skipped: what
//    a writer (or a peer's push) put there before a busy lsyncd read the event was never
//    pushed, until the audit (seen in CI; on the demo, a directory moved in from another
//    filesystem kept 3 of its 5 files to itself). The intake walks each new directory once,
//    after lsyncd has watched it, and takes in what it finds: every file as a new file
//    (1., so unlike lsyncd's walk it waits until complete; on a node, not one that 9.
//    shows was received), a directory the sync user made (received: the receiving daemon
//    is that user's only writer) not pushed back by a node.
// 9. Renames lsyncd did not pair. lsyncd 2.2.3 pairs a rename's two inotify events only
//    when both are queued when it reads; a read between them splits rsync's rename of an
//    arrival into a delete of the temp file and a create of the name, which a node took
//    for a local write and pushed back, bringing back a name another node had just
//    deleted (seen in CI). The temp file's lone delete is remembered for 2 s by the name it
//    was made for, and a create of that name the sync user made is that arrival. Not a file
//    8.'s walk finds: its own temp half comes later, and one of its name there then is
//    another directory's file's (taking it, the exchange sent a node's files to every node
//    but the one that half named, which never got them: randomized.test.ts,
//    convergence.test.ts). On a node, the temp half that follows the walk is the walked
//    file's own: received, it is not pushed back.
// 10. Files renamed in. A file written under a temp name and renamed in (the writer the
//    README recommends) is a Move to lsyncd, which sent a delete of a name no peer had and
//    fenced 4. off: a burst of 2,000 took 141-175 rsync runs. A file created here is
//    "fresh" until it is queued; a fresh file's rename goes out as the new name's create,
//    queued directly, and its lone delete is dropped — fresh only while nothing queued or
//    running could send it first.
import { readFileSync } from "fs";
import { join } from "path";
import { REPLACED_DIR_NAME, SYNC_USER } from "../hostLayout";
import { lua } from "../quote";

export interface IntakeSpec {
  /** Whether arrivals are pushed on (the exchange) or not (a node). */
  readonly relayArrivals: boolean;
  /** Receiver-relative temp dir prefix, e.g. "/.lsyncd-tmp/". */
  readonly tempDir: string;
  /**
   * For each sync{} target string of this host, the temp dir that target pushes into here:
   * arrivals through it are not relayed back to it.
   */
  readonly originDirOf: ReadonlyArray<{ readonly target: string; readonly dir: string }>;
  /** Seconds a file without close-write must keep its size before it is pushed. */
  readonly settleSeconds: number;
  /**
   * Seconds a file written here must stay quiet (no close-write, same size) after its last
   * close-write before it is pushed; 0 = at its first close-write (a writer that reopens
   * the file per chunk gets each chunk pushed and served by the peers).
   */
  readonly quietSeconds: number;
  /** The exchange's versions area (absolute, trailing "/"); absent = what is replaced is removed. */
  readonly versionsDir?: string;
  /** The exchange's mass-delete fuse; absent = deletes are relayed at once. */
  readonly fuse?: {
    readonly files: number;
    readonly seconds: number;
    /** Root-only dir of `<origin>.held` lists (absolute, trailing "/"). */
    readonly dir: string;
    /** The rsync merge file of protect rules for held paths. */
    readonly rules: string;
  };
}

/**
 * Seconds the exchange waits, after the last delete from a node, before it relays that
 * node's deletes: a burst arrives in several pushes, more than 2 s apart on a loaded host
 * (measured: 54 of 500 slipped through with 2 s), and the whole burst must be held.
 */
export const FUSE_DELAY_SECONDS = 5;

export function renderIntake(spec: IntakeSpec): string {
  if (!Number.isInteger(spec.settleSeconds) || spec.settleSeconds < 1) {
    throw new Error(`settleSeconds must be a positive integer, got ${spec.settleSeconds}`);
  }
  if (!Number.isFinite(spec.quietSeconds) || spec.quietSeconds < 0 || spec.quietSeconds > 60) {
    throw new Error(`quietSeconds must be a number of seconds from 0 to 60, got ${spec.quietSeconds}`);
  }
  if (spec.versionsDir !== undefined && !/^\/.*\/$/.test(spec.versionsDir)) {
    throw new Error(`versionsDir must be absolute and end in "/", got ${spec.versionsDir}`);
  }
  const fuse = spec.fuse;
  if (fuse !== undefined) {
    if (!Number.isInteger(fuse.files) || fuse.files < 1) throw new Error(`fuse.files must be a positive integer, got ${fuse.files}`);
    if (!Number.isInteger(fuse.seconds) || fuse.seconds < 1)
      throw new Error(`fuse.seconds must be a positive integer, got ${fuse.seconds}`);
  }
  const origins = spec.originDirOf.map((o) => `    [${lua(o.target)}] = ${lua(o.dir)},`);
  return `
-- lsyncd-cluster event intake: complete files only, no echo, origin-aware relay, O(1)
-- queueing of new files (components/render/lsyncdIntake.ts says why).
do
  local SETTLE = ${spec.settleSeconds}
  local QUIET = ${spec.quietSeconds}
  local RELAY_ARRIVALS = ${spec.relayArrivals ? "true" : "false"}
  local TEMP = ${lua(spec.tempDir)}
  local VERSIONS = ${spec.versionsDir !== undefined ? lua(spec.versionsDir) : "nil"}
  local FUSE_FILES = ${fuse ? fuse.files : 0}
  local FUSE_SECONDS = ${fuse ? fuse.seconds : 0}
  local FUSE_DIR = ${fuse ? lua(fuse.dir) : "nil"}
  local FUSE_RULES = ${fuse ? lua(fuse.rules) : "nil"}
  local FUSE_DELAY = ${FUSE_DELAY_SECONDS}
  local ORIGIN_OF = {
${origins.join("\n")}
  }
  local REPLACED = ${lua(`/${REPLACED_DIR_NAME}/`)}
  local SYNC_USER = ${lua(SYNC_USER)}
${intakeBody()}`;
}

/** lua/intake.lua without its own header comment (the rendered config says where it came from). */
function intakeBody(): string {
  return readFileSync(join(__dirname, "lua", "intake.lua"), "utf8").replace(/^(?:--[^\n]*\n)+/, "");
}
