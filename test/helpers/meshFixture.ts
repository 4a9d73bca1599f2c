// One mesh, built under mocks the way the engine would see it, for the tests that read what
// the program renders (graph, shellcheck, luacheck): the spec, the hosts, the build.
import * as pulumi from "@pulumi/pulumi";
import { CommonSpec } from "../../components/spec";
import { MeshHostArgs, SyncMesh } from "../../components/syncMesh";
import { installMocks, Recorder, resolve } from "../../testing/pulumiMocks";

export const OPERATOR_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlcmF0b3Itc2VjcmV0\n-----END OPENSSH PRIVATE KEY-----\n";

/** The defaults every test starts from. */
export const COMMON_SPEC: CommonSpec = {
  syncDir: "/srv/pics",
  lsyncd: { delay: 0, maxProcesses: 1, excludes: [], statusInterval: 10, quietPeriod: 1 },
  inotify: { maxUserWatches: 16777216, maxQueuedEvents: 65536, maxUserInstances: 1024 },
  web: { enabled: true, port: 80 },
  audit: { intervalMinutes: 10, graceSeconds: 60, checksumHours: 24 },
  versions: { keepDays: 14, warnDiskPercent: 20 },
  deleteFuse: { files: 200, seconds: 60 },
};

/** Host i: operator address 192.0.2.i, sync address 10.0.0.i, a device disk. */
export function meshHost(name: string, i: number): MeshHostArgs {
  return {
    name,
    connection: {
      host: `192.0.2.${i}`,
      port: 22,
      user: "root",
      privateKey: pulumi.secret(OPERATOR_KEY),
      hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost${i}`,
    },
    syncAddress: `10.0.0.${i}`,
    syncPort: 22,
    disk: { kind: "device", path: "/dev/nvme1n1" },
  };
}

export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node${String(i + 1).padStart(2, "0")}`);
}

/** An exchange and `nodes` nodes; resolves once every step is registered. */
export async function buildMesh(nodes: number, spec: CommonSpec = COMMON_SPEC): Promise<Recorder> {
  const recorder = await installMocks();
  const mesh = new SyncMesh("m", { ...spec, exchange: meshHost("exchange", 1), nodes: nodeNames(nodes).map((n, i) => meshHost(n, i + 2)) });
  const steps = [...mesh.hosts.flatMap((h) => Object.values(h.steps)), ...Object.values(mesh.seeds)];
  await Promise.all(steps.map((c) => resolve(c.urn)));
  await resolve(mesh.syncPublicKeys);
  return recorder;
}
