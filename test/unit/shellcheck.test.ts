// Every script the program runs on a host, and every script it installs there, as rendered
// for a real mesh (exchange + node, web on), passes shellcheck. Scripts are built from
// TypeScript strings; this is what shows a quoting or logic slip in the text they make.
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import { REMOTE_STEP_TYPE } from "../../components/remoteStep";
import { CommonSpec } from "../../components/spec";
import { MeshHostArgs, SyncMesh } from "../../components/syncMesh";
import { installMocks, resolve } from "../helpers/pulumiMocks";
import { filesWritten, innerScript } from "../helpers/scriptFiles";

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
    connection: { host: `192.0.2.${i}`, port: 22, user: "admin", privateKey: pulumi.secret("key"), hostKey: "ssh-ed25519 AAAA" },
    syncAddress: `10.0.0.${i}`,
    syncPort: 22,
    disk: { kind: "device", path: "/dev/nvme1n1" },
  };
}

function shellcheck(name: string, text: string): string {
  const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--format=gcc", "-"], { input: text, encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck is needed for this test (Debian: apt-get install shellcheck): ${r.error.message}`);
  return r.status === 0 ? "" : `${name}:\n${r.stdout}`;
}

test("every step script, probe and installed script passes shellcheck", async () => {
  const rec = await installMocks();
  const mesh = new SyncMesh("m", { ...common, exchange: host("exchange", 1), nodes: [host("node01", 2)] });
  await Promise.all([...mesh.hosts.flatMap((h) => Object.values(h.steps)), ...Object.values(mesh.seeds)].map((c) => resolve(c!.urn)));
  const steps = rec.ofType(REMOTE_STEP_TYPE);
  expect(steps.length).toBeGreaterThanOrEqual(15);
  const findings: string[] = [];
  let checked = 0;
  for (const step of steps) {
    for (const field of ["create", "delete", "probe"] as const) {
      if (step.inputs[field] === "") continue;
      findings.push(shellcheck(`${step.name} ${field}`, innerScript(step.inputs[field])));
      checked++;
    }
    for (const [path, file] of Object.entries(filesWritten(step.inputs.create))) {
      if (!/^#!\/bin\/(ba)?sh/.test(file.content)) continue;
      findings.push(shellcheck(`${step.name} writes ${path}`, file.content));
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(40);
  expect(findings.filter(Boolean)).toEqual([]);
});
