// seed: one push of the exchange's whole sync dir to a node that is new or was rebuilt,
// before that node's lsyncd starts. lsyncd never deletes at startup (delete = "running"),
// so without this an empty node would only get files written after it joined.
import { sh } from "../quote";
import { script } from "./bash";
import { SSH_BINARY, SSH_CONFIG, TEMP_DIR_PATTERN, alwaysExcluded, pusherTempDir, targetOf } from "../hostLayout";

export function seedCreate(syncDir: string, exchange: string, node: string, excludes: readonly string[]): string {
  const args = [
    "--recursive",
    // No --links: the node's daemon refuses links (rsyncdConf.ts); rsync skips them.
    "--perms",
    "--times",
    "--update",
    "--whole-file",
    // The exchange's own temp dir on the node, as its lsyncd uses (the node's trust made it).
    `--temp-dir=${pusherTempDir(exchange)}`,
    ...[TEMP_DIR_PATTERN, ...alwaysExcluded(), ...excludes].map((e) => `--exclude=${e}`),
    `--rsh=${SSH_BINARY} -F ${SSH_CONFIG}`,
    `${syncDir}/`,
    targetOf(node),
  ];
  return script([
    // 24 = files vanished while being read: the next lsyncd event covers them.
    `rc=0; rsync ${args.map(sh).join(" ")} || rc=$?`,
    'if [ "$rc" -ne 0 ] && [ "$rc" -ne 24 ]; then echo "seeding failed: rsync exit $rc" >&2; exit "$rc"; fi',
  ]);
}

/** Nothing to undo: copies on the node are the cluster's data, never deleted by a destroy. */
export function seedDelete(node: string): string {
  return script([`echo ${sh(`seed of ${node}: files stay in place`)}`]);
}
