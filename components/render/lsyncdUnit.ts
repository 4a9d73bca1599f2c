// Our own systemd unit for lsyncd. Debian ships only a SysV script, so systemd never
// restarts an lsyncd that died (rsync exit 1/2/4/25/28/127, watch exhaustion). A unit in
// /etc/systemd/system named lsyncd.service takes the SysV script's place.
//
// lsyncd runs as root (it reads every file of the sync dir, whoever wrote it, and holds the
// sync key) but only ever writes its log/status/heartbeat, its ssh ControlMaster sockets,
// the sync dir (its intake's renames) and on the exchange the fuse's state: the sandbox
// leaves it exactly that, so a bug in its event handling (it parses
// names a stolen key chose) cannot write anywhere else. Valid for systemd 252.
import { plainPath } from "../quote";
import { LSYNCD_CONF, LSYNCD_LOG_DIR, SSH_CONTROL_DIR } from "../hostLayout";

const SANDBOX = [
  "NoNewPrivileges=yes",
  "ProtectSystem=strict",
  // "-": a missing dir is no reason not to start (the identity step makes the socket dir).
  `ReadWritePaths=-${LSYNCD_LOG_DIR} -${SSH_CONTROL_DIR}`,
  // ssh is given its config with -F; nothing in a home is needed.
  "ProtectHome=read-only",
  "PrivateTmp=yes",
  "PrivateDevices=yes",
  "ProtectKernelTunables=yes",
  "ProtectKernelModules=yes",
  "ProtectKernelLogs=yes",
  "ProtectControlGroups=yes",
  "ProtectClock=yes",
  "ProtectHostname=yes",
  "RestrictSUIDSGID=yes",
  "RestrictNamespaces=yes",
  "RestrictRealtime=yes",
  "LockPersonality=yes",
  "SystemCallArchitectures=native",
  "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
  // Read any file an application wrote into the sync dir, and (the intake) rename and
  // hard-link files of the sync user's inside it; nothing else of root's powers.
  "CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE CAP_FOWNER",
];

export function renderLsyncdUnit(syncDir: string, stateDirs: readonly string[] = []): string {
  plainPath("a unit file", syncDir);
  stateDirs.forEach((d) => plainPath("a unit file", d));
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
    ...SANDBOX,
    // The intake renames inside the sync dir (a winning version back into place, issue 15;
    // a replaced one into the exchange's versions, issue 13) and records the fuse's state.
    `ReadWritePaths=-${syncDir}${stateDirs.map((d) => ` -${d}`).join("")}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}
