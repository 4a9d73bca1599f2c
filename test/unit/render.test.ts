// Exact output of the payload renderers for the default spec, and the rules each must
// keep whatever the input: hostile values refused, never a way around host-key pinning.
import { execFileSync } from "child_process";
import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderHealthCheck, renderLogrotate } from "../../components/healthFiles";
import { renderLsyncdConf } from "../../components/render/lsyncdConf";
import { renderLsyncdUnit } from "../../components/render/lsyncdUnit";
import { renderNginxSite } from "../../components/render/nginxSite";
import { normalizePublicKey, renderAuthorizedKeys, renderKnownHosts, renderSshConfig } from "../../components/render/sshFiles";
import { renderSysctlConf } from "../../components/render/sysctlConf";
import { LsyncdSpec } from "../../components/spec";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fengari = require("fengari");

const defaults: LsyncdSpec = { delay: 0, maxProcesses: 1, excludes: [], statusInterval: 10 };
const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfExchangeAAAAAAAAAAAAAAAAAAAAAAAAA";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISyncKeyOfNode01AAAAAAAAAAAAAAAAAAAAAAAAAA";

describe("lsyncd.conf.lua", () => {
  it("renders the default node config exactly", () => {
    expect(renderLsyncdConf({ syncDir: "/srv/pics", lsyncd: defaults, targets: ["exchange"], relayArrivals: false })).toBe(
      `-- Managed by lsyncd-cluster; local edits are overwritten.
settings {
  logfile = "/var/log/lsyncd/lsyncd.log",
  statusFile = "/var/log/lsyncd/lsyncd.status",
  statusInterval = 10,
  insist = true,
}

sync {
  default.rsync,
  source = "/srv/pics/",
  target = "lsc-exchange:/",
  delay = 0,
  maxProcesses = 1,
  delete = "running",
  exclude = { "/lost+found/" },
  rsync = {
    _extra = { "--exclude=/.lsyncd-tmp/" },
    rsh = "/usr/bin/ssh -F /etc/lsyncd-cluster/ssh_config",
    temp_dir = "/.lsyncd-tmp/",
    protect_args = false,
    owner = false,
    group = false,
    perms = true,
    times = true,
    links = true,
    update = true,
    whole_file = true,
    compress = false,
  },
}

local function lscHeartbeat()
  local f = io.open("/var/log/lsyncd/lsyncd.heartbeat", "w")
  if f then f:write(os.time(), "\\n") f:close() end
  alarm(now() + 10, lscHeartbeat)
end
alarm(now() + 1, lscHeartbeat)

do
  local SETTLE = 1
  local RELAY_ARRIVALS = false
  local Syncs
  for i = 1, 64 do
    local name, value = debug.getupvalue(sync, i)
    if name == nil then break end
    if name == "Syncs" then Syncs = value end
  end
  if type(Syncs) ~= "table" or type(Syncs.get) ~= "function" then
    error("lsyncd-cluster: this lsyncd has no Syncs table; it needs lsyncd 2.2.x")
  end
  local function sizeOf(file)
    local f = io.open(file, "rb")
    if not f then return nil end
    local size = f:seek("end")
    f:close()
    return size
  end
  for n = 1, Syncs.size() do
    local s = Syncs.get(n)
    local push = s.delay
    local pending = {}
    local function settle(path, size)
      if not pending[path] then return end
      local current = sizeOf(s.source .. path:sub(2))
      if current ~= nil and current ~= size then
        alarm(now() + SETTLE, function() settle(path, current) end)
        return
      end
      pending[path] = nil
      push(s, "Create", now(), path)
    end
    local function inTemp(p)
      return p ~= nil and p:sub(1, 13) == "/.lsyncd-tmp/"
    end
    s.delay = function(self, etype, time, path, path2)
      if inTemp(path) then
        -- rsync renamed a complete file from a peer into place: relay it as that file, now.
        if RELAY_ARRIVALS and etype == "Move" and path2 ~= nil and not inTemp(path2) then
          pending[path2] = nil
          return push(self, "Create", time, path2)
        end
        return
      end
      if etype == "Create" and path:sub(-1) ~= "/" then
        pending[path] = true
        local size = sizeOf(s.source .. path:sub(2))
        alarm(now() + SETTLE, function() settle(path, size) end)
        return
      end
      if path ~= nil then pending[path] = nil end
      if path2 ~= nil then pending[path2] = nil end
      return push(self, etype, time, path, path2)
    end
  end
end
`,
    );
  });

  it("has one sync{} per target on the exchange, and only the exchange relays arrivals", () => {
    const conf = renderLsyncdConf({ syncDir: "/srv/pics", lsyncd: defaults, targets: ["node01", "node02", "node03"], relayArrivals: true });
    expect(conf.match(/^sync \{/gm)).toHaveLength(3);
    expect(conf).toContain("local RELAY_ARRIVALS = true\n");
    expect(renderLsyncdConf({ syncDir: "/srv/pics", lsyncd: defaults, targets: ["exchange"], relayArrivals: false })).toContain(
      "local RELAY_ARRIVALS = false\n",
    );
  });

  it("is valid Lua whatever the excludes hold", () => {
    const conf = renderLsyncdConf({
      syncDir: "/srv/pics",
      lsyncd: { ...defaults, excludes: ['*.tmp"', "a\\b", "new\nline", "]]--"] },
      targets: ["exchange"],
      relayArrivals: false,
    });
    const { lauxlib, to_luastring } = fengari;
    const L = lauxlib.luaL_newstate();
    expect(lauxlib.luaL_loadstring(L, to_luastring(conf))).toBe(0);
    expect(conf).toContain('exclude = { "/lost+found/", "*.tmp\\"", "a\\\\b", "new\\010line", "]]--" }');
  });

  it("never deletes at startup and never trusts an unknown host", () => {
    const conf = renderLsyncdConf({ syncDir: "/srv/pics", lsyncd: { ...defaults, delay: 3 }, targets: ["a"], relayArrivals: false });
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
    for (const line of ["StrictHostKeyChecking yes", "BatchMode yes", "ControlMaster auto", "IdentitiesOnly yes", "GlobalKnownHostsFile /dev/null"]) {
      expect(cfg).toContain(`  ${line}\n`);
    }
  });

  it("refuses an address that would inject ssh options", () => {
    expect(() => renderSshConfig([{ ...targets[0], address: "10.0.0.1\n  ProxyCommand sh" }])).toThrow("cannot be written into an ssh config");
    expect(() => renderSshConfig([{ ...targets[0], address: "a b" }])).toThrow("cannot be written");
  });

  it("restricts every pushing key to write-only rrsync in the sync dir", () => {
    expect(renderAuthorizedKeys("/srv/pics", [{ name: "node01", syncPublicKey: `${KEY_B} root@node01` }])).toBe(
      `# Managed by lsyncd-cluster; local edits are overwritten.\nrestrict,command="/usr/bin/rrsync -wo -no-lock /srv/pics" ${KEY_B} lsyncd-cluster:node01\n`,
    );
  });

  it("refuses a key a compromised host could use to smuggle options or a second line", () => {
    for (const bad of [
      'command="sh" ssh-ed25519 AAAA',
      "ssh-ed25519 AAAA\nssh-ed25519 BBBB",
      "ssh-dss AAAA",
      "ssh-ed25519 AAA$(id)",
      "",
    ]) {
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

  it("serves the sync dir read-only, hiding the temp dir, as the default server", () => {
    const site = renderNginxSite({ syncDir: "/srv/pics", port: 8080 });
    expect(site).toContain("    listen 8080 default_server;\n    listen [::]:8080 default_server;\n");
    expect(site).toContain("    root /srv/pics;\n");
    expect(site).toContain("location ^~ /.lsyncd-tmp/ { return 404; }");
    expect(site).toContain("limit_except GET HEAD { deny all; }");
    expect(renderNginxSite({ syncDir: "/srv/pics", port: 80, listenAddress: "127.0.10.2" })).toContain(
      "    listen 127.0.10.2:80 default_server;\n",
    );
    expect(() => renderNginxSite({ syncDir: "/srv/pics; include /etc/passwd", port: 80 })).toThrow("cannot be written");
  });

  it("rotates the lsyncd log without ever signalling lsyncd", () => {
    const conf = renderLogrotate();
    expect(conf).toContain("/var/log/lsyncd/lsyncd.log {");
    expect(conf).not.toMatch(/postrotate|HUP|kill/);
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
    execFileSync("touch", ["-d", `@${Math.floor(Date.now() / 1000) - opts.heartbeatAgeS}`, join(dir, "lsyncd.heartbeat")]);
    try {
      const out = execFileSync("bash", [join(dir, "health")], { env: { PATH: `${dir}:/usr/bin:/bin` } }).toString();
      return { code: 0, out };
    } catch (e) {
      const err = e as { status: number; stdout: Buffer };
      return { code: err.status, out: err.stdout.toString() };
    }
  }
  const ok = "x Normal: Startup of /srv/pics/ -> lsc-exchange:/ finished.\n";

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
    const r = runHealth({ active: true, heartbeatAgeS: 1, log: "x Normal: recursive startup rsync: /srv/pics/ -> lsc-exchange:/\n" });
    expect(r).toEqual({ code: 2, out: "CRITICAL: no successful sync logged yet\n" });
  });
});
