// Exact output of the payload renderers for the default spec, and the rules each must
// keep whatever the input: hostile values refused, never a way around host-key pinning.
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderHealthCheck, renderLogrotate } from "../../components/render/healthFiles";
import { renderAction } from "../../components/render/lsyncdAction";
import { renderLsyncdConf } from "../../components/render/lsyncdConf";
import { renderLsyncdUnit } from "../../components/render/lsyncdUnit";
import { renderNginxSite } from "../../components/render/nginxSite";
import { renderRsyncdConf } from "../../components/render/rsyncdConf";
import { normalizePublicKey, renderAuthorizedKeys, renderKnownHosts, renderSshConfig } from "../../components/render/sshFiles";
import { renderSysctlConf } from "../../components/render/sysctlConf";
import { LsyncdSpec } from "../../components/spec";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fengari = require("fengari");

const defaults: LsyncdSpec = { delay: 0, maxProcesses: 1, excludes: [], statusInterval: 10, quietPeriod: 1 };
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfExchangeAAAAAAAAAAAAAAAAAAAAAAAAA";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISyncKeyOfNode01AAAAAAAAAAAAAAAAAAAAAAAAAA";

describe("lsyncd.conf.lua", () => {
  const INTAKE = "\n-- lsyncd-cluster event intake";
  const nodeConf = () =>
    renderLsyncdConf({ host: "node01", syncDir: "/srv/pics", lsyncd: defaults, targets: ["exchange"], relayArrivals: false });

  it("renders the default node config exactly, followed by the event intake", () => {
    const conf = nodeConf();
    expect(conf.slice(0, conf.indexOf(INTAKE))).toBe(
      `-- Managed by lsyncd-cluster; local edits are overwritten.
settings {
  logfile = "/var/log/lsyncd/lsyncd.log",
  statusFile = "/var/log/lsyncd/lsyncd.status",
  statusInterval = 10,
  insist = true,
}
${renderAction()}
sync {
  default.rsync,
  action = lscAction,
  init = lscInit,
  source = "/srv/pics/",
  target = "lsc-exchange::sync/",
  delay = 0,
  maxProcesses = 1,
  delete = "running",
  exclude = { "/lost+found/", "/.lsyncd-versions/" },
  rsync = {
    _extra = { "--exclude=/.lsyncd-tmp/", "--omit-dir-times", "--modify-window=-1", "--backup", "--backup-dir=.lsyncd-tmp/node01/.replaced/" },
    rsh = "/usr/bin/ssh -F /etc/lsyncd-cluster/ssh_config",
    temp_dir = ".lsyncd-tmp/node01/",
    protect_args = false,
    owner = false,
    group = false,
    perms = true,
    times = true,
    links = false,
    whole_file = true,
    compress = false,
  },
}

local function lscHeartbeat()
  local f = io.open("/var/log/lsyncd/lsyncd.heartbeat", "w")
  if f then f:write(os.time(), "\\n") f:close() end
  alarm(now() + 10, lscHeartbeat)
end
alarm(now(), lscHeartbeat)
`,
    );
    expect(conf).toContain(`${INTAKE}: complete files only`);
    expect(conf).toContain('  local TEMP = "/.lsyncd-tmp/"\n');
    expect(conf).toContain('    ["lsc-exchange::sync/"] = "/.lsyncd-tmp/exchange/",\n');
  });

  it("has one sync{} per target on the exchange, and only the exchange relays arrivals", () => {
    const conf = renderLsyncdConf({
      host: "exchange",
      syncDir: "/srv/pics",
      lsyncd: defaults,
      targets: ["node01", "node02", "node03"],
      relayArrivals: true,
    });
    expect(conf.match(/^sync \{/gm)).toHaveLength(3);
    expect(conf.match(/^  action = lscAction,$/gm)).toHaveLength(3);
    expect(conf).toContain("local RELAY_ARRIVALS = true\n");
    for (const n of ["node01", "node02", "node03"]) {
      expect(conf).toContain(`  target = "lsc-${n}::sync/",\n`);
      // what arrives from a node through its own temp dir is not relayed back to it
      expect(conf).toContain(`    ["lsc-${n}::sync/"] = "/.lsyncd-tmp/${n}/",\n`);
    }
    expect(conf.match(/temp_dir = "\.lsyncd-tmp\/exchange\/",/g)).toHaveLength(3);
    expect(nodeConf()).toContain("local RELAY_ARRIVALS = false\n");
  });

  it("is valid Lua whatever the excludes hold", () => {
    const conf = renderLsyncdConf({
      host: "node01",
      syncDir: "/srv/pics",
      lsyncd: { ...defaults, excludes: ['*.tmp"', "a\\b", "new\nline", "]]--"] },
      targets: ["exchange"],
      relayArrivals: false,
    });
    const { lauxlib, to_luastring } = fengari;
    const L = lauxlib.luaL_newstate();
    expect(lauxlib.luaL_loadstring(L, to_luastring(conf))).toBe(0);
    expect(conf).toContain('exclude = { "/lost+found/", "/.lsyncd-versions/", "*.tmp\\"", "a\\\\b", "new\\010line", "]]--" }');
  });

  it("never deletes at startup and never trusts an unknown host", () => {
    const conf = renderLsyncdConf({
      host: "a",
      syncDir: "/srv/pics",
      lsyncd: { ...defaults, delay: 3 },
      targets: ["b"],
      relayArrivals: false,
    });
    expect(conf).toContain('delete = "running"');
    expect(conf).not.toMatch(/StrictHostKeyChecking/);
    expect(conf).toContain("delay = 3,");
  });
});

describe("ssh files", () => {
  const targets = [{ name: "exchange", address: "10.42.0.10", port: 22, hostKey: `${KEY_A} root@exchange` }];

  it("pins host keys under the peer alias, dropping comments", () => {
    expect(renderKnownHosts(targets)).toBe(`# Managed by lsyncd-cluster; local edits are overwritten.\nlsc-exchange ${KEY_A}\n`);
  });

  it("renders ssh_config with strict checking, batch mode and connection reuse", () => {
    const cfg = renderSshConfig(targets);
    expect(cfg).toContain("Host lsc-exchange\n  HostName 10.42.0.10\n  Port 22\n  User lsyncd-sync\n  HostKeyAlias lsc-exchange\n");
    for (const line of [
      "StrictHostKeyChecking yes",
      "BatchMode yes",
      "ControlMaster auto",
      "IdentitiesOnly yes",
      "GlobalKnownHostsFile /dev/null",
    ]) {
      expect(cfg).toContain(`  ${line}\n`);
    }
  });

  it("refuses an address that would inject ssh options", () => {
    expect(() => renderSshConfig([{ ...targets[0], address: "10.0.0.1\n  ProxyCommand sh" }])).toThrow(
      "cannot be written into an ssh config",
    );
    expect(() => renderSshConfig([{ ...targets[0], address: "a b" }])).toThrow("cannot be written");
  });

  it("forces every pushing key into the rsync daemon with our config", () => {
    expect(renderAuthorizedKeys([{ name: "node01", syncPublicKey: `${KEY_B} root@node01` }])).toBe(
      "# Managed by lsyncd-cluster; local edits are overwritten.\n" +
        `restrict,command="/usr/bin/rsync --server --daemon --config=/etc/lsyncd-cluster-rsyncd.conf ." ${KEY_B} lsyncd-cluster:node01\n`,
    );
  });

  it("serves one write-only module, the sync dir: no links, devices or specials, modes sanitised, every push logged", () => {
    expect(renderRsyncdConf("/srv/pics")).toBe(
      [
        "# Managed by lsyncd-cluster; local edits are overwritten.",
        "# Read by the rsync that sshd starts for a peer's sync key (see authorized_keys).",
        "log file = /var/log/lsyncd/pushes.log",
        "transfer logging = yes",
        "log format = %o %a %m %f %l",
        "",
        "[sync]",
        "    path = /srv/pics",
        "    use chroot = no",
        "    read only = no",
        "    write only = yes",
        "    list = no",
        "    refuse options = links keep-dirlinks D devices specials copy-devices write-devices files-from H hard-links link-dest inplace append append-verify",
        "    munge symlinks = yes",
        "    incoming chmod = Fug-s,Fo-w,Do-w",
        "    exclude = /.lsyncd-versions/",
        "    reverse lookup = no",
        "",
      ].join("\n"),
    );
    for (const bad of ["/srv/pics\n[root]\n    path = /", "/srv/my pics", "srv/pics"]) {
      expect(() => renderRsyncdConf(bad)).toThrow("cannot be written into an rsyncd config");
    }
  });

  it("refuses a key a compromised host could use to smuggle options or a second line", () => {
    for (const bad of ['command="sh" ssh-ed25519 AAAA', "ssh-ed25519 AAAA\nssh-ed25519 BBBB", "ssh-dss AAAA", "ssh-ed25519 AAA$(id)", ""]) {
      expect(() => normalizePublicKey("k", bad)).toThrow("is not an OpenSSH public key");
    }
  });
});

describe("system files", () => {
  it("renders the sysctl file exactly", () => {
    expect(renderSysctlConf({ maxUserWatches: 16777216, maxQueuedEvents: 65536, maxUserInstances: 1024 })).toBe(
      "# Managed by lsyncd-cluster; local edits are overwritten.\n" +
        "fs.inotify.max_user_watches = 16777216\nfs.inotify.max_queued_events = 65536\nfs.inotify.max_user_instances = 1024\n",
    );
  });

  it("runs lsyncd in the foreground under systemd, restarted on failure", () => {
    const unit = renderLsyncdUnit("/srv/pics");
    expect(unit).toContain("ExecStart=/usr/bin/lsyncd -nodaemon /etc/lsyncd/lsyncd.conf.lua\n");
    expect(unit).toContain("Restart=always\n");
    expect(unit).toContain("SuccessExitStatus=143\n");
    expect(unit).toContain("RequiresMountsFor=/srv/pics\n");
  });

  // Issue 13: the intake renames inside the sync dir (issue 15 put a winning version back;
  // issue 13 moves replaced ones into the exchange's versions) and the exchange's fuse
  // records its state, so those are writable too, and root keeps the two capabilities a
  // rename and a hard link of the sync user's files need; nothing else.
  it("sandboxes lsyncd: it may write only its log dir, its ssh sockets, the sync dir and the fuse's state (issues 11, 13)", () => {
    const unit = renderLsyncdUnit("/srv/pics", ["/srv/pics/.lsyncd-versions", "/var/lib/lsyncd-cluster/fuse"]);
    for (const line of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ReadWritePaths=-/var/log/lsyncd -/var/lib/lsyncd-cluster/cm",
      "ProtectHome=read-only",
      "PrivateTmp=yes",
      "PrivateDevices=yes",
      "RestrictSUIDSGID=yes",
      "CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE CAP_FOWNER",
    ]) {
      expect(unit).toContain(`\n${line}\n`);
    }
    expect(unit.match(/^ReadWritePaths=.*$/gm)).toEqual([
      "ReadWritePaths=-/var/log/lsyncd -/var/lib/lsyncd-cluster/cm",
      "ReadWritePaths=-/srv/pics -/srv/pics/.lsyncd-versions -/var/lib/lsyncd-cluster/fuse",
    ]);
  });

  it("serves the sync dir read-only, hiding the temp dir, as the default server", () => {
    const site = renderNginxSite({ syncDir: "/srv/pics", port: 8080 });
    expect(site).toContain("    listen 8080 default_server;\n    listen [::]:8080 default_server;\n");
    expect(site).toContain("    root /srv/pics;\n");
    expect(site).toContain("location ^~ /.lsyncd-tmp/ { return 404; }");
    expect(site).toContain("limit_except GET HEAD { deny all; }");
    expect(site).toContain("    disable_symlinks on from=$document_root;\n");
    expect(site).toContain("    add_header X-Content-Type-Options nosniff always;\n");
    // A cached descriptor would serve a replaced image for up to open_file_cache_valid.
    expect(site).not.toContain("open_file_cache");
    expect(renderNginxSite({ syncDir: "/srv/pics", port: 80, listenAddress: "127.0.10.2" })).toContain(
      "    listen 127.0.10.2:80 default_server;\n",
    );
    expect(() => renderNginxSite({ syncDir: "/srv/pics; include /etc/passwd", port: 80 })).toThrow("cannot be written");
  });

  it("rotates the lsyncd log without ever signalling lsyncd", () => {
    const conf = renderLogrotate();
    expect(conf).toContain("/var/log/lsyncd/lsyncd.log {");
    expect(conf).not.toMatch(/postrotate|HUP|kill/);
    // The push record keeps its write-only mode for the sync user after each rotation.
    expect(conf).toContain("/var/log/lsyncd/pushes.log {\n    weekly\n");
    expect(conf).toContain("    create 0620 root lsyncd-sync\n");
  });
});

describe("lsyncd-cluster-health", () => {
  // The check's decisions, run for real by bash against a fake log, status and systemctl.
  function runHealth(opts: { active: boolean; heartbeatAgeS: number; log: string }): { code: number; out: string } {
    const dir = mkdtempSync(join(tmpdir(), "lsc-health-"));
    const script = renderHealthCheck(10).replace(/\/var\/log\/lsyncd\//g, `${dir}/`);
    writeFileSync(join(dir, "health"), script, { mode: 0o755 });
    writeFileSync(join(dir, "systemctl"), `#!/bin/sh\nexit ${opts.active ? 0 : 3}\n`, { mode: 0o755 });
    writeFileSync(join(dir, "lsyncd.log"), opts.log);
    writeFileSync(join(dir, "lsyncd.status"), "Sync1 source=/srv/pics/\nThere are 2 delays\n");
    writeFileSync(join(dir, "lsyncd.heartbeat"), "1\n");
    // A fixed clock: a second boundary between touch and the check must not change the age.
    const now = Math.floor(Date.now() / 1000);
    writeFileSync(join(dir, "date"), `#!/bin/sh\necho ${now}\n`, { mode: 0o755 });
    execFileSync("touch", ["-d", `@${now - opts.heartbeatAgeS}`, join(dir, "lsyncd.heartbeat")]);
    try {
      const out = execFileSync("bash", [join(dir, "health")], { env: { PATH: `${dir}:/usr/bin:/bin` } }).toString();
      return { code: 0, out };
    } catch (e) {
      const err = e as { status: number; stdout: Buffer };
      return { code: err.status, out: err.stdout.toString() };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const ok = "x Normal: Startup of /srv/pics/ -> lsc-exchange::sync/ finished.\n";

  it("is green when running, fresh and the last outcome succeeded", () => {
    const r = runHealth({ active: true, heartbeatAgeS: 1, log: ok + "x Normal: Finished a list after exitcode: 0\n" });
    expect(r).toEqual({ code: 0, out: "OK: lsyncd running, heartbeat 1s old, last sync succeeded, 2 event(s) queued\n" });
  });

  it("is red when lsyncd is not running", () => {
    expect(runHealth({ active: false, heartbeatAgeS: 1, log: ok })).toEqual({ code: 2, out: "CRITICAL: lsyncd is not running\n" });
  });

  it("is red when the heartbeat is older than 3 × statusInterval", () => {
    const r = runHealth({ active: true, heartbeatAgeS: 45, log: ok });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^CRITICAL: lsyncd heartbeat is 4[5-6]s old \(limit 30s\)/);
  });

  it("is red on a failure after the last success, green again after a later success", () => {
    const failing = ok + "x Normal: Retrying a list after exitcode = 255\n";
    const r = runHealth({ active: true, heartbeatAgeS: 1, log: failing });
    expect(r).toEqual({ code: 2, out: "CRITICAL: sync failing since last success: x Normal: Retrying a list after exitcode = 255\n" });
    expect(runHealth({ active: true, heartbeatAgeS: 1, log: failing + "x Normal: Finished a list after exitcode: 0\n" }).code).toBe(0);
  });

  it("is red before any sync has succeeded", () => {
    const r = runHealth({ active: true, heartbeatAgeS: 1, log: "x Normal: recursive startup rsync: /srv/pics/ -> lsc-exchange::sync/\n" });
    expect(r).toEqual({ code: 2, out: "CRITICAL: no successful sync logged yet\n" });
  });
});
