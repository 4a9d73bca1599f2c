// seed: one push of the exchange's whole sync dir to a node that is new or was rebuilt,
// before that node's lsyncd starts. lsyncd never deletes at startup (delete = "running"),
// so without this an empty node would only get files written after it joined.
// The push runs as a few rsync streams over disjoint parts of the tree (sh/seed.sh says
// why and how the parts are chosen).
import { sh } from "../quote";
import { script } from "./bash";
import { filled } from "./scriptFile";
import { SSH_BINARY, SSH_CONFIG, TEMP_DIR_PATTERN, alwaysExcluded, pusherTempDir, targetOf } from "../hostLayout";

/** A bash array assignment, each element through sh(). */
function bashArray(name: string, values: readonly string[]): string {
  return `${name}=(${values.map(sh).join(" ")})`;
}

export function seedCreate(syncDir: string, exchange: string, node: string, excludes: readonly string[]): string {
  const rsyncOpts = [
    "--recursive",
    // No --links: the node's daemon refuses links (rsyncdConf.ts); rsync skips them.
    "--perms",
    "--times",
    "--update",
    "--whole-file",
    // The exchange's own temp dir on the node, as its lsyncd uses (the node's trust made it).
    `--temp-dir=${pusherTempDir(exchange)}`,
    `--rsh=${SSH_BINARY} -F ${SSH_CONFIG}`,
  ];
  const excludeOpts = [TEMP_DIR_PATTERN, ...alwaysExcluded(), ...excludes].map((e) => `--exclude=${e}`);
  return script([
    bashArray("rsync_opts", rsyncOpts),
    bashArray("excludes", excludeOpts),
    ...filled({ sync_dir: syncDir, target: targetOf(node) }, "seed.sh"),
  ]);
}

/** Nothing to undo: copies on the node are the cluster's data, never deleted by a destroy. */
export function seedDelete(node: string): string {
  return script([`echo ${sh(`seed of ${node}: files stay in place`)}`]);
}
