// The lsyncd config of every host, as rendered for a real mesh (with the event intake and
// the rsync action in it), passes luacheck: Lua 5.3, lsyncd 2.2.3's own globals only.
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import { REMOTE_STEP_TYPE } from "../../components/remoteStep";
import { CommonSpec } from "../../components/spec";
import { MeshHostArgs, SyncMesh } from "../../components/syncMesh";
import { installMocks, resolve } from "../helpers/pulumiMocks";
import { filesWritten } from "../helpers/scriptFiles";

/** What lsyncd 2.2.3 defines for a config file (lsyncd.lua, "user script" environment). */
const LSYNCD_GLOBALS = ["settings", "sync", "default", "spawn", "spawnShell", "now", "log", "alarm", "lsyncd", "Syncs", "Inotify"];

const common: CommonSpec = {
  syncDir: "/srv/pics",
  lsyncd: { delay: 0, maxProcesses: 1, excludes: ["*.part"], statusInterval: 10, quietPeriod: 1 },
  inotify: { maxUserWatches: 16777216, maxQueuedEvents: 65536, maxUserInstances: 1024 },
  web: { enabled: true, port: 80 },
  audit: { intervalMinutes: 10, graceSeconds: 60 },
};

function host(name: string, i: number): MeshHostArgs {
  return {
    name,
    connection: { host: `192.0.2.${i}`, port: 22, user: "root", privateKey: pulumi.secret("key"), hostKey: "ssh-ed25519 AAAA" },
    syncAddress: `10.0.0.${i}`,
    syncPort: 22,
    disk: { kind: "device", path: "/dev/nvme1n1" },
  };
}

test("every host's rendered lsyncd config passes luacheck", async () => {
  const rec = await installMocks();
  const mesh = new SyncMesh("m", { ...common, exchange: host("exchange", 1), nodes: [host("node01", 2), host("node02", 3)] });
  await Promise.all(mesh.hosts.flatMap((h) => Object.values(h.steps)).map((c) => resolve(c!.urn)));
  const configs = rec
    .ofType(REMOTE_STEP_TYPE)
    .flatMap((step) => Object.entries(filesWritten(step.inputs.create)).filter(([path]) => path.endsWith(".lua")).map(([path, f]) => [`${step.name} ${path}`, f.content] as const));
  expect(configs).toHaveLength(3);
  for (const [name, lua] of configs) {
    const r = spawnSync(
      "luacheck",
      ["--std", "lua53", "--globals", ...LSYNCD_GLOBALS, "--ignore", "212/self", "--no-max-line-length", "--no-color", "--formatter", "plain", "-"],
      { input: lua, encoding: "utf8" },
    );
    if (r.error) throw new Error(`luacheck is needed for this test (Debian: apt-get install lua-check): ${r.error.message}`);
    expect(`${name}: ${r.stdout}`).toBe(`${name}: `);
  }
});
