// The resource graph of the lsyncd mesh, as the engine would receive it: who pushes to
// whom, what waits for what, and which steps a config change replaces.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { REMOTE_STEP_TYPE } from "../../components/remoteStep";
import { remoteStepProvider, StepState } from "../../components/remote/provider";
import { Recorder } from "../../testing/pulumiMocks";
import { buildMesh, COMMON_SPEC, nodeNames, OPERATOR_KEY } from "../helpers/meshFixture";
import { filesWritten, innerScript } from "../helpers/scriptFiles";
import {
  AUDIT_COMMAND,
  AUDIT_SERVICE,
  AUDIT_STATE,
  AUDIT_TIMER,
  LSYNCD_CONF,
  RSYNCD_CONF,
  SSH_CONFIG,
  SYNC_AUTHORIZED_KEYS,
} from "../../components/hostLayout";

const COMMAND = REMOTE_STEP_TYPE;
const common = COMMON_SPEC;
const build = buildMesh;

function lsyncdTargets(recorder: Recorder, hostName: string): string[] {
  const conf = filesWritten(recorder.named(`m-${hostName}-lsyncd`).inputs.create)[LSYNCD_CONF].content;
  return [...conf.matchAll(/target = "([^"]+)"/g)].map((m) => m[1]);
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function unwrapSecrets(inputs: Record<string, any>): StepState {
  const plain = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, v && typeof v === "object" && SECRET_SIG in v ? v.value : v]),
  );
  return plain as StepState;
}

type Op = "create" | "update" | "replace" | "same" | "delete";

/**
 * What the engine would do to each step going from one build to the other, decided by the
 * provider's own diff (the one `pulumi up` calls).
 */
async function opsBetween(before: Recorder, after: Recorder): Promise<Map<string, Op>> {
  const olds = new Map(before.ofType(COMMAND).map((r) => [r.name, unwrapSecrets(r.inputs)] as const));
  const ops = new Map<string, Op>();
  for (const r of after.ofType(COMMAND)) {
    const old = olds.get(r.name);
    if (!old) {
      ops.set(r.name, "create");
      continue;
    }
    const d = await remoteStepProvider.diff("id", old, unwrapSecrets(r.inputs));
    ops.set(r.name, d.replaces.length > 0 ? "replace" : d.changes ? "update" : "same");
  }
  for (const name of olds.keys()) if (!ops.has(name)) ops.set(name, "delete");
  return ops;
}

function named(ops: Map<string, Op>, op: Op): string[] {
  return [...ops]
    .filter(([, o]) => o === op)
    .map(([n]) => n)
    .sort();
}

describe("SyncMesh over 3 nodes", () => {
  let rec: Recorder;
  beforeAll(async () => {
    rec = await build(3);
  });

  it("has the exchange push to every node and each node push to the exchange only", () => {
    expect(lsyncdTargets(rec, "exchange")).toEqual(["lsc-node01::sync/", "lsc-node02::sync/", "lsc-node03::sync/"]);
    for (const n of nodeNames(3)) {
      expect(lsyncdTargets(rec, n)).toEqual(["lsc-exchange::sync/"]);
    }
  });

  it("relays arriving files on the exchange only (no echo back from a node)", () => {
    const conf = (hostName: string) => filesWritten(rec.named(`m-${hostName}-lsyncd`).inputs.create)[LSYNCD_CONF].content;
    expect(conf("exchange")).toContain("local RELAY_ARRIVALS = true\n");
    for (const n of nodeNames(3)) expect(conf(n)).toContain("local RELAY_ARRIVALS = false\n");
  });

  it("installs the auditor and its timer with the exchange's lsyncd only, and its delete removes them", () => {
    const ex = rec.named("m-exchange-lsyncd");
    const files = filesWritten(ex.inputs.create);
    expect(files[AUDIT_COMMAND].content).toContain(
      "declare -A target=(['node01']='lsc-node01::sync/' ['node02']='lsc-node02::sync/' ['node03']='lsc-node03::sync/')",
    );
    expect(files[AUDIT_TIMER].content).toContain("OnUnitActiveSec=10min");
    expect(innerScript(ex.inputs.create)).toContain("systemctl enable --now 'lsyncd-cluster-audit.timer'");
    const del = innerScript(ex.inputs.delete);
    expect(del).toContain("systemctl disable --now 'lsyncd-cluster-audit.timer'");
    expect(del).toContain("systemctl stop 'lsyncd-cluster-audit.service'");
    for (const path of [AUDIT_COMMAND, AUDIT_SERVICE, AUDIT_TIMER, AUDIT_STATE]) expect(del).toContain(`'${path}'`);
    for (const n of nodeNames(3)) {
      const node = rec.named(`m-${n}-lsyncd`);
      expect(Object.keys(filesWritten(node.inputs.create))).not.toContain(AUDIT_COMMAND);
      expect(innerScript(node.inputs.create)).not.toContain("timer");
    }
  });

  it("starts an lsyncd only after the trust step of every target it pushes to (a node's also after its seed, the exchange's not after any)", () => {
    const trustUrn = (h: string) => rec.named(`m-${h}-trust`).urn;
    const exchangeDeps = rec.named("m-exchange-lsyncd").dependencies;
    for (const n of nodeNames(3)) {
      expect(exchangeDeps).toContain(trustUrn(n));
      // Not after the seeds: deletes made during a seed must reach the new node.
      expect(exchangeDeps).not.toContain(rec.named(`m-seed-${n}`).urn);
      const nodeDeps = rec.named(`m-${n}-lsyncd`).dependencies;
      expect(nodeDeps).toContain(trustUrn("exchange"));
      expect(nodeDeps).toContain(trustUrn(n));
      // The node is seeded from the exchange before its own lsyncd starts.
      expect(nodeDeps).toContain(rec.named(`m-seed-${n}`).urn);
      expect(nodeDeps).not.toContain(trustUrn(n === "node01" ? "node02" : "node01"));
    }
  });

  it("chains each host's steps: ready → packages → disk → identity → trust", () => {
    for (const h of ["exchange", ...nodeNames(3)]) {
      expect(rec.named(`m-${h}-packages`).dependencies).toContain(rec.named(`m-${h}-ready`).urn);
      expect(rec.named(`m-${h}-disk`).dependencies).toContain(rec.named(`m-${h}-packages`).urn);
      expect(rec.named(`m-${h}-identity`).dependencies).toContain(rec.named(`m-${h}-disk`).urn);
      expect(rec.named(`m-${h}-trust`).dependencies).toContain(rec.named(`m-${h}-identity`).urn);
    }
  });

  it("gives every step a delete, delete-before-replace, and a payload only where an undo is needed", () => {
    const commands = rec.ofType(COMMAND);
    const hash = (text: string) => createHash("sha256").update(text).digest("hex");
    // Only steps whose undo is needed before a change (unmount, a new sync user) have a
    // payload; a change of anything else, the package list included, is an in-place update.
    const payloads: Record<string, () => string> = {
      identity: () => JSON.stringify({ user: "lsyncd-sync", syncDir: "/srv/pics" }),
      disk: () => JSON.stringify({ syncDir: "/srv/pics", disk: { kind: "device", path: "/dev/nvme1n1" } }),
    };
    expect(commands).toHaveLength(4 * 7 + 3 /* web on nodes */ + 3 /* seeds */ - 0);
    for (const c of commands) {
      expect(c.inputs.delete).toMatch(/^bash -c /);
      expect(c.deleteBeforeReplace).toBe(true);
      const step = c.name.split("-").pop()!;
      expect(c.inputs.payload).toBe(hash(payloads[step]?.() ?? ""));
      expect(innerScript(c.inputs.create).startsWith("set -euo pipefail\n")).toBe(true);
      // Every script, create, delete and probe, parses as bash.
      execFileSync("bash", ["-n", "-c", innerScript(c.inputs.create)]);
      execFileSync("bash", ["-n", "-c", innerScript(c.inputs.delete)]);
      if (c.inputs.probe !== "") execFileSync("bash", ["-n", "-c", innerScript(c.inputs.probe)]);
      // Seeds are the only steps without a probe: there is nothing of theirs to look at.
      expect(c.inputs.probe === "").toBe(step.startsWith("node") && c.name.startsWith("m-seed-"));
    }
  });

  it("lets only the exchange's sync key into a node, and every node's key into the exchange", () => {
    const keysIn = (h: string) =>
      filesWritten(rec.named(`m-${h}-trust`).inputs.create)
        [SYNC_AUTHORIZED_KEYS].content.split("\n")
        .filter((l) => l.startsWith("restrict,"))
        .map((l) => l.split(" ").pop());
    expect(keysIn("exchange")).toEqual(["lsyncd-cluster:node01", "lsyncd-cluster:node02", "lsyncd-cluster:node03"]);
    expect(keysIn("node02")).toEqual(["lsyncd-cluster:exchange"]);
    const line = filesWritten(rec.named("m-node02-trust").inputs.create)[SYNC_AUTHORIZED_KEYS].content.split("\n")[1];
    expect(line).toMatch(
      /^restrict,command="\/usr\/bin\/rsync --server --daemon --config=\/etc\/lsyncd-cluster-rsyncd\.conf \." ssh-ed25519 [A-Za-z0-9+/]+ lsyncd-cluster:exchange$/,
    );
    // the config that line forces: the sync dir as the only module
    expect(filesWritten(rec.named("m-node02-trust").inputs.create)[RSYNCD_CONF].content).toContain("[sync]\n    path = /srv/pics\n");
  });

  it("gives each pusher its own temp dir on the host it pushes to, and pushes through it", () => {
    const exchangeTrust = innerScript(rec.named("m-exchange-trust").inputs.create);
    for (const n of ["node01", "node02", "node03"]) {
      expect(exchangeTrust).toContain(`lsc_owned_dir 2775 'lsyncd-sync':'lsyncd-sync' '/srv/pics/.lsyncd-tmp/${n}'\n`);
    }
    expect(innerScript(rec.named("m-node02-trust").inputs.create)).toContain(
      "lsc_owned_dir 2775 'lsyncd-sync':'lsyncd-sync' '/srv/pics/.lsyncd-tmp/exchange'\n",
    );
    const conf = (h: string) => filesWritten(rec.named(`m-${h}-lsyncd`).inputs.create)[LSYNCD_CONF].content;
    expect(conf("node02")).toContain('temp_dir = ".lsyncd-tmp/node02/",');
    expect(conf("exchange")).toContain('temp_dir = ".lsyncd-tmp/exchange/",');
    const seed = innerScript(rec.named("m-seed-node02").inputs.create);
    expect(seed).toContain("'--temp-dir=.lsyncd-tmp/exchange/'");
    expect(seed).toContain("'lsc-node02::sync/'");
  });

  it("dials peers at their sync address with pinned host keys", () => {
    const sshConfig = filesWritten(rec.named("m-node01-trust").inputs.create)[SSH_CONFIG].content;
    expect(sshConfig).toContain("Host lsc-exchange\n  HostName 10.0.0.1\n  Port 22\n  User lsyncd-sync\n  HostKeyAlias lsc-exchange");
    expect(sshConfig).toContain("StrictHostKeyChecking yes");
    expect(sshConfig).not.toMatch(/StrictHostKeyChecking\s+no/i);
  });

  it("runs web only on nodes", () => {
    expect(rec.resources.some((r) => r.name === "m-exchange-web")).toBe(false);
    for (const n of nodeNames(3)) expect(rec.named(`m-${n}-web`).type).toBe(COMMAND);
  });

  it("keeps the operator key out of every script and the connection secret", () => {
    const SECRET_SIG = "4dabf18193072939515e22adb298388d";
    for (const c of rec.ofType(COMMAND)) {
      expect(c.inputs.create).not.toContain("b3BlcmF0b3Itc2VjcmV0");
      expect(c.inputs.delete).not.toContain("b3BlcmF0b3Itc2VjcmV0");
      expect(c.inputs.connection[SECRET_SIG]).toBe("1b47061264138c4ac30d75fd1eb44270");
      expect(c.inputs.connection.value.privateKey).toBe(OPERATOR_KEY);
    }
  });
});

describe("what a change touches (decided by the provider's own diff)", () => {
  it("adding a node creates its steps and only updates the exchange's trust and lsyncd", async () => {
    const ops = await opsBetween(await build(3), await build(4));
    expect(named(ops, "create")).toEqual(
      [
        "m-node04-disk",
        "m-node04-identity",
        "m-node04-lsyncd",
        "m-node04-packages",
        "m-node04-ready",
        "m-node04-sysctl",
        "m-node04-trust",
        "m-node04-web",
        "m-seed-node04",
      ].sort(),
    );
    expect(named(ops, "update")).toEqual(["m-exchange-lsyncd", "m-exchange-trust"]);
    expect(named(ops, "replace")).toEqual([]);
    expect(named(ops, "delete")).toEqual([]);
  });

  it("removing a node deletes its steps and only updates the exchange's trust and lsyncd", async () => {
    const ops = await opsBetween(await build(4), await build(3));
    expect(named(ops, "delete")).toHaveLength(9);
    expect(named(ops, "delete").every((n) => n.includes("node04"))).toBe(true);
    expect(named(ops, "update")).toEqual(["m-exchange-lsyncd", "m-exchange-trust"]);
    expect(named(ops, "replace")).toEqual([]);
  });

  it("changing lsyncd.delay updates lsyncd steps in place, nothing else", async () => {
    const ops = await opsBetween(await build(3), await build(3, { ...common, lsyncd: { ...common.lsyncd, delay: 2 } }));
    expect(named(ops, "update")).toEqual(["m-exchange-lsyncd", "m-node01-lsyncd", "m-node02-lsyncd", "m-node03-lsyncd"]);
    expect(named(ops, "replace")).toEqual([]);
  });

  it("turning web off updates the nodes' packages in place: nothing is removed under a running cluster", async () => {
    const ops = await opsBetween(await build(2), await build(2, { ...common, web: { enabled: false, port: 80 } }));
    expect(named(ops, "replace")).toEqual([]);
    expect(named(ops, "update")).toEqual(["m-node01-packages", "m-node02-packages"]);
    expect(named(ops, "delete")).toEqual(["m-node01-web", "m-node02-web"]);
  });

  it("changing inotify limits updates sysctl steps in place, nothing else", async () => {
    const ops = await opsBetween(await build(2), await build(2, { ...common, inotify: { ...common.inotify, maxUserWatches: 524288 } }));
    expect(named(ops, "update")).toEqual(["m-exchange-sysctl", "m-node01-sysctl", "m-node02-sysctl"]);
    expect(named(ops, "replace")).toEqual([]);
  });

  it("moving the sync dir replaces disk and identity (their undo must run first)", async () => {
    const ops = await opsBetween(await build(1), await build(1, { ...common, syncDir: "/srv/images" }));
    expect(named(ops, "replace")).toEqual(["m-exchange-disk", "m-exchange-identity", "m-node01-disk", "m-node01-identity"]);
  });
});
