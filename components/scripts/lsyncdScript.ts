// lsyncd: config and unit written, service enabled, restarted only when a file changed
// (a restart is a full startup rsync to every target), and checked to be running.
import { sh } from "../quote";
import { LsyncdConfSpec, renderLsyncdConf } from "../render/lsyncdConf";
import { renderLsyncdUnit } from "../render/lsyncdUnit";
import { FileSpec, script, writeFile } from "./bash";
import { LSYNCD_CONF, LSYNCD_LOG, LSYNCD_LOG_DIR, LSYNCD_UNIT, SSH_CONTROL_DIR } from "../hostLayout";

/** Files the lsyncd step owns besides config and unit (health check, logrotate). */
export interface LsyncdStepSpec extends LsyncdConfSpec {
  readonly extraFiles?: readonly FileSpec[];
  /** systemd timers among the extra files, enabled and started with lsyncd (the auditor's). */
  readonly timers?: readonly string[];
  /**
   * Root-only (0700) dirs made before lsyncd starts (the exchange's versions area, inside
   * the sync user's dir, so made like the temp root: a link or file planted there is
   * removed, never followed). Never removed by delete: they hold data.
   */
  readonly rootDirs?: readonly string[];
}

export function lsyncdCreate(spec: LsyncdStepSpec): string {
  return script([
    `install -d -m 0755 /etc/lsyncd ${sh(LSYNCD_LOG_DIR)}`,
    writeFile({ path: LSYNCD_CONF, content: renderLsyncdConf(spec), mode: "0644" }),
    writeFile({ path: LSYNCD_UNIT, content: renderLsyncdUnit(spec.syncDir, spec.rootDirs ?? []), mode: "0644" }),
    ...(spec.extraFiles ?? []).map(writeFile),
    ...(spec.rootDirs ?? []).map((d) => `lsc_owned_dir 0700 root:root ${sh(d)}`),
    "systemctl daemon-reload",
    "systemctl enable lsyncd >/dev/null 2>&1",
    ...(spec.timers ?? []).map((t) => `if ! out=$(systemctl enable --now ${sh(t)} 2>&1); then echo "$out" >&2; exit 1; fi`),
    'if [ "$LSC_CHANGED" -gt 0 ] || ! systemctl is-active --quiet lsyncd; then',
    "  systemctl restart lsyncd",
    "fi",
    // lsyncd dies at once on a config it cannot load; make that this step's failure.
    "sleep 2",
    "if ! systemctl is-active --quiet lsyncd; then",
    '  echo "lsyncd is not running after restart; last log lines:" >&2',
    `  tail -n 20 ${sh(LSYNCD_LOG)} >&2 || echo "(no log at ${LSYNCD_LOG})" >&2`,
    "  exit 1",
    "fi",
  ]);
}

/**
 * `stateDirs`: root-only dirs of program state (the exchange's fuse lists) removed whole.
 * The versions area is data, like the images, and stays.
 */
export function lsyncdDelete(
  extraPaths: readonly string[] = [],
  timers: readonly string[] = [],
  stateDirs: readonly string[] = [],
): string {
  return script([
    // A run the timer already started is stopped too: it would write its state after the
    // removal below.
    ...timers.flatMap((t) => [
      `systemctl disable --now ${sh(t)} >/dev/null 2>&1 || true`,
      `systemctl stop ${sh(t.replace(/\.timer$/, ".service"))} >/dev/null 2>&1 || true`,
    ]),
    `if [ -e ${sh(LSYNCD_UNIT)} ]; then`,
    "  systemctl disable --now lsyncd >/dev/null 2>&1 || systemctl stop lsyncd",
    "fi",
    // ssh masters outlive lsyncd where no cgroup ends them (ControlPersist); close them.
    `for socket in ${sh(SSH_CONTROL_DIR)}/*; do`,
    '  if [ -S "$socket" ]; then ssh -o ControlPath="$socket" -O exit lsc-control >/dev/null 2>&1 || rm -f "$socket"; fi',
    "done",
    `lsc_remove ${[LSYNCD_UNIT, LSYNCD_CONF, ...extraPaths].map(sh).join(" ")}`,
    ...stateDirs.map(
      (d) => `if [ -d ${sh(d)} ] && [ ! -L ${sh(d)} ]; then rm -rf --one-file-system -- ${sh(d)}; LSC_CHANGED=$((LSC_CHANGED + 1)); fi`,
    ),
    "systemctl daemon-reload",
  ]);
}
