// ready: the host answers SSH, can become root without a password, and has finished
// booting (cloud-init), so apt and the disks are ours to use.
import { sh } from "../quote";
import { script } from "./bash";
import { claimServer, releaseServer } from "./ownerGuard";
import { ETC_DIR, STATE_DIR } from "../hostLayout";

export function readyCreate(hostName: string): string {
  return script([
    "if command -v cloud-init >/dev/null 2>&1; then",
    // 0 = done, 2 = done with recoverable errors; 1 = failed boot.
    "  rc=0; cloud-init status --wait >/dev/null || rc=$?",
    '  if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then echo "cloud-init failed (exit $rc)" >&2; exit "$rc"; fi',
    "fi",
    "for tool in bash base64 mktemp stat cmp; do",
    '  command -v "$tool" >/dev/null || { echo "this host lacks $tool" >&2; exit 1; }',
    "done",
    `install -d -m 0755 ${sh(STATE_DIR)}`,
    `install -d -m 0700 ${sh(ETC_DIR)}`,
    ...claimServer(hostName),
  ]);
}

export function readyDelete(hostName: string): string {
  // Only removes the directories when every other step has already cleaned up after itself.
  return script([
    ...releaseServer(hostName),
    `for dir in ${sh(ETC_DIR)} ${sh(STATE_DIR)}; do`,
    '  if [ -d "$dir" ]; then rmdir --ignore-fail-on-non-empty "$dir"; fi',
    "done",
  ]);
}
