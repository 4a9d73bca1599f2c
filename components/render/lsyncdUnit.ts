// Our own systemd unit for lsyncd. Debian ships only a SysV script, so systemd never
// restarts an lsyncd that died (rsync exit 1/2/4/25/28/127, watch exhaustion). A unit in
// /etc/systemd/system named lsyncd.service takes the SysV script's place.
import { LSYNCD_CONF } from "../paths";
import { plainPath } from "../quote";

export function renderLsyncdUnit(syncDir: string): string {
  plainPath("a unit file", syncDir);
  return [
    "# Managed by lsyncd-cluster; local edits are overwritten.",
    "[Unit]",
    "Description=lsyncd: push the sync dir to its peers (lsyncd-cluster)",
    "Wants=network-online.target",
    "After=network-online.target local-fs.target",
    // Never watch the empty mount point of a disk that failed to mount.
    `RequiresMountsFor=${syncDir}`,
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=/usr/bin/lsyncd -nodaemon ${LSYNCD_CONF}`,
    "Restart=always",
    "RestartSec=2",
    // lsyncd exits 143 on SIGTERM: a requested stop, not a failure.
    "SuccessExitStatus=143",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
