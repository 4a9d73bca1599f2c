// The lifecycle on the real Pulumi engine (issue: "Run on the real Pulumi engine"): the CLI
// built from Go modules, a stack written the way the README tells a user, test hosts for
// an exchange and up to four nodes. After every step: a file written on each node is
// served by every node, nothing is lost, and the step did nothing it must not.
import { execSync } from "child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { join } from "path";
import { fetchImage, run, SYNC_DIR, waitFor } from "../../testing/harness/cluster";
import { EngineRun, EngineStack, stepOps, toolchainBin } from "../../testing/harness/engine";
import { startTestHosts, TestCluster, TestHost } from "../../testing/fixture/testHosts";
import { HOST_NAME_FILE, LSYNCD_UNIT, NGINX_SITE, SYNC_AUTHORIZED_KEYS, SYNC_USER } from "../../components/hostLayout";

jest.setTimeout(15 * 60_000);

const ROOT = "/tmp/lsc-engine";
const POLICY_DIR = join(__dirname, "..", "..", "policy");
let hosts: TestCluster;
let stack: EngineStack;
/** Which test host each cluster name is, as the current config says. */
let members: { exchange: Member; nodes: Member[] };
let fileCounter = 0;
/** Every file the tests wrote, by name → content; each must stay on every node. */
const written = new Map<string, string>();

interface Member {
  readonly name: string;
  readonly host: TestHost;
  readonly address?: string;
}

function entry(m: Member): Record<string, unknown> {
  return {
    name: m.name,
    address: m.address ?? m.host.address,
    port: m.host.port,
    user: m.host.user,
    disk: m.host.disk,
    hostKey: m.host.hostKey,
    listenAddress: m.host.address,
  };
}

function configure(next: { exchange: Member; nodes: Member[] }, extra: Record<string, unknown> = {}): void {
  members = next;
  stack.writeConfig({ syncDir: SYNC_DIR, hosts: { exchange: entry(next.exchange), nodes: next.nodes.map(entry) }, ...extra });
}

/** The engine's own summary lines of every run, for the record (printed at the end). */
const summaries: string[] = [];

function expectOk(r: EngineRun, what: string): void {
  const counts = /^(?:Resources:\n)((?: {4}.*\n)+)/m.exec(r.output)?.[1] ?? "";
  summaries.push(`${what}: ${counts.trim().split(/\n\s*/).join(", ")} (${(r.ms / 1000).toFixed(1)} s)`);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.output.slice(-6000)}`);
}

function opsOf(r: EngineRun, op: string): string[] {
  return [...stepOps(r)]
    .filter(([, o]) => o === op)
    .map(([n]) => n)
    .sort();
}

/** The operator's SSH logins into a host so far (peers push as the sync user, tests use nsenter). */
async function operatorLogins(h: TestHost): Promise<number> {
  const out = await run(hosts, h, "grep -c 'Accepted publickey for root' /var/log/sshd-fixture.log || true");
  return Number(out.trim() || "0");
}

/** What a host that stays in the cluster must still have after any step. */
async function expectIntact(m: Member, role: "exchange" | "node"): Promise<void> {
  const h = m.host;
  await run(hosts, h, `id -u ${SYNC_USER} >/dev/null`);
  await run(hosts, h, `test -s ${SYNC_AUTHORIZED_KEYS}`);
  await run(hosts, h, `test -f ${LSYNCD_UNIT} && systemctl is-active --quiet lsyncd`);
  await run(hosts, h, `mountpoint -q ${SYNC_DIR}`);
  expect((await run(hosts, h, `cat ${HOST_NAME_FILE}`)).trim()).toBe(m.name);
  if (role === "node") await run(hosts, h, `test -f ${NGINX_SITE} && systemctl is-active --quiet nginx`);
}

/** Write a new file on every node; each must be served by every node, and all earlier ones too. */
async function expectConverged(): Promise<void> {
  for (const m of members.nodes) {
    const name = `engine-${++fileCounter}-${m.name}.txt`;
    const content = `${name} ${Date.now()}\n`;
    await run(hosts, m.host, `cat > ${SYNC_DIR}/${name}`, content);
    written.set(name, content);
  }
  for (const m of members.nodes) {
    await waitFor(
      `every file served by ${m.name}`,
      async () => {
        for (const [name, content] of written) {
          const got = await fetchImage(m.host, name);
          if (got?.toString() !== content) return false;
        }
        return true;
      },
      60_000,
      200,
    );
  }
}

beforeAll(async () => {
  const bin = toolchainBin();
  if (!existsSync(join(POLICY_DIR, "node_modules", "@pulumi", "policy"))) {
    execSync("npm ci --no-audit --no-fund", { cwd: POLICY_DIR, stdio: "ignore" });
  }
  hosts = await startTestHosts({ nodes: 4, root: ROOT + "-hosts", addressBase: "127.0.12" });
  stack = new EngineStack(ROOT, "e2e", bin);
  stack.init(hosts.operatorPrivateKey);
  const [n1, n2, n3] = hosts.nodes;
  configure({
    exchange: { name: "exchange", host: hosts.exchange },
    nodes: [
      { name: "node01", host: n1 },
      { name: "node02", host: n2 },
      { name: "node03", host: n3 },
    ],
  });
});

afterAll(async () => {
  await hosts?.stop();
  writeFileSync(join(ROOT, "summaries.txt"), `${summaries.join("\n")}\n`);
  console.log(`what the engine printed, run by run:\n${summaries.join("\n")}`);
});

/**
 * What a seed step printed at its last create or update, from the engine's own state: the
 * provider tells the script which run it is, and the seed says which way it copied.
 */
function seedSaid(node: string): string {
  // To a file: the state holds each step's serialized provider, more than a pipe's buffer.
  const file = join(stack.dir, ".state-export.json");
  stack.cli(["stack", "export", "--file", file]);
  const state = JSON.parse(readFileSync(file, "utf8")) as {
    deployment: { resources?: { urn: string; outputs?: { stdout?: string } }[] };
  };
  const seed = (state.deployment.resources ?? []).find((r) => r.urn.endsWith(`::lsyncd-mesh-seed-${node}`));
  if (!seed) throw new Error(`no seed of ${node} in the stack's state`);
  return seed.outputs?.stdout ?? "";
}
const NEW_NODE_SEED = "straight into place (the step's first run: a new node)";
const LATER_SEED = "through the exchange's temp dir (a later run)";

test("1. preview, then up from an empty stack; a second up changes nothing and logs into no host", async () => {
  const preview = await stack.run("preview");
  expectOk(preview, "preview");
  expect(preview.output).toMatch(/\+ 41 to create/);
  expect(opsOf(preview, "create")).toHaveLength(34);

  const up = await stack.run("up");
  expectOk(up, "up");
  expect(up.summary).toEqual({ create: 41 });
  // The engine's create reached each seed as its first run.
  for (const m of members.nodes) expect(seedSaid(m.name)).toContain(NEW_NODE_SEED);
  for (const m of [members.exchange, ...members.nodes]) await expectIntact(m, m === members.exchange ? "exchange" : "node");
  await expectConverged();

  const logins = await Promise.all(hosts.hosts.map(operatorLogins));
  const again = await stack.run("up", ["--expect-no-changes"]);
  expectOk(again, "second up");
  expect(again.summary).toEqual({ same: 41 });
  expect(await Promise.all(hosts.hosts.map(operatorLogins))).toEqual(logins);

  // The mandatory policy pack, run by the engine on every step of the program.
  const policed = await stack.run("preview", ["--policy-pack", POLICY_DIR]);
  expectOk(policed, "preview with the policy pack");
  expect(policed.output).toMatch(/lsyncd-cluster-guardrails/);
  expect(policed.output).not.toMatch(/mandatory|violation/i);
});

test("2. scale out 3 → 4 and back, with a writer on node01 during each up", async () => {
  const [n1, n2, n3, n4] = hosts.nodes;
  const three = members;
  const four = { exchange: three.exchange, nodes: [...three.nodes, { name: "node04", host: n4 }] };

  for (const [target, label] of [
    [four, "3 → 4"],
    [three, "4 → 3"],
  ] as const) {
    configure(target);
    const preview = await stack.run("preview");
    expectOk(preview, `preview ${label}`);
    if (target === four) {
      expect(opsOf(preview, "create")).toEqual(
        ["disk", "identity", "lsyncd", "packages", "ready", "sysctl", "trust", "web"]
          .map((s) => `lsyncd-mesh-node04-${s}`)
          .concat("lsyncd-mesh-seed-node04")
          .sort(),
      );
      expect(opsOf(preview, "delete")).toEqual([]);
    } else {
      expect(opsOf(preview, "delete")).toHaveLength(9);
      expect(opsOf(preview, "create")).toEqual([]);
    }
    // On hosts that stay: in-place updates of the exchange's peer lists, nothing else.
    expect(opsOf(preview, "update")).toEqual(["lsyncd-mesh-exchange-lsyncd", "lsyncd-mesh-exchange-trust"]);
    expect(opsOf(preview, "replace")).toEqual([]);

    // An upload every 100 ms on node01 while the engine works.
    const writer = run(
      hosts,
      n1,
      `for i in $(seq 1 40); do printf 'w%s\\n' "$i" > ${SYNC_DIR}/writer-${label.replace(/\W+/g, "")}-$i.txt; sleep 0.1; done`,
    );
    const up = await stack.run("up");
    await writer;
    expectOk(up, `up ${label}`);
    if (target === four) expect(seedSaid("node04")).toContain(NEW_NODE_SEED);
    for (let i = 1; i <= 40; i++) written.set(`writer-${label.replace(/\W+/g, "")}-${i}.txt`, `w${i}\n`);
    for (const m of members.nodes) await expectIntact(m, "node");
    await expectIntact(members.exchange, "exchange");
    await expectConverged();
    // No push of node01's was refused or failed while the exchange was reconfigured.
    const log = await run(hosts, n1, "cat /var/log/lsyncd/lsyncd.log");
    expect(log).not.toMatch(/Error:|refused|Permission denied|exitcode: [1-9]/i);
  }
  void n2;
  void n3;
});

test("3a. removing the first node deletes only its own steps; the others keep working", async () => {
  const [n1] = hosts.nodes;
  configure({ exchange: members.exchange, nodes: members.nodes.filter((m) => m.name !== "node01") });
  const up = await stack.run("up");
  expectOk(up, "up without node01");
  expect(opsOf(up, "delete").every((n) => n.includes("node01"))).toBe(true);
  expect(opsOf(up, "replace")).toEqual([]);
  for (const m of members.nodes) await expectIntact(m, "node");
  await expectIntact(members.exchange, "exchange");
  // node01 left the cluster: the program's things are gone from it, its images are not.
  await run(hosts, n1, `! id -u ${SYNC_USER} 2>/dev/null && ! test -e ${LSYNCD_UNIT}`);
  await expectConverged();
  // It comes back, first in the list.
  configure({ exchange: members.exchange, nodes: [{ name: "node01", host: n1 }, ...members.nodes] });
  expectOk(await stack.run("up"), "up with node01 back");
  for (const m of members.nodes) await expectIntact(m, "node");
  await expectConverged();
});

test("3b. renaming a node runs the old deletes as no-ops on the server the new name claimed", async () => {
  const renamed = members.nodes.map((m) => (m.name === "node02" ? { ...m, name: "web2" } : m));
  configure({ exchange: members.exchange, nodes: renamed });
  const up = await stack.run("up");
  expectOk(up, "up with node02 renamed web2");
  expect(opsOf(up, "delete").length).toBeGreaterThan(0);
  for (const m of members.nodes) await expectIntact(m, "node");
  await expectIntact(members.exchange, "exchange");
  await expectConverged();
});

test("3c. reordering the nodes replaces and deletes nothing", async () => {
  configure({ exchange: members.exchange, nodes: [...members.nodes].reverse() });
  const up = await stack.run("up");
  expectOk(up, "up with the nodes reversed");
  expect(opsOf(up, "delete")).toEqual([]);
  expect(opsOf(up, "replace")).toEqual([]);
  expect(opsOf(up, "create")).toEqual([]);
  for (const m of members.nodes) await expectIntact(m, "node");
  await expectConverged();
});

test("4. a node's address changes (same server): its steps update on the right server", async () => {
  const target = members.nodes.find((m) => m.name === "node03")!;
  const second = target.host.address.replace(/\.(\d+)$/, (_, d) => `.${Number(d) + 100}`);
  // The same sshd, the same host key, now also on a second address.
  await run(hosts, target.host, `echo 'ListenAddress ${second}' > /etc/ssh/sshd_config.d/second-address.conf`);
  await hosts.stopSshd(target.host);
  await hosts.startSshd(target.host);
  configure({ exchange: members.exchange, nodes: members.nodes.map((m) => (m === target ? { ...m, address: second } : m)) });
  const up = await stack.run("up");
  expectOk(up, "up with node03's new address");
  expect(opsOf(up, "replace")).toEqual([]);
  expect(opsOf(up, "delete")).toEqual([]);
  expect(opsOf(up, "update")).toEqual(expect.arrayContaining(["lsyncd-mesh-node03-ready", "lsyncd-mesh-exchange-trust"]));
  // The exchange now dials node03 at the new address.
  expect(await run(hosts, members.exchange.host, "cat /etc/lsyncd-cluster/ssh_config")).toContain(`HostName ${second}`);
  for (const m of members.nodes) await expectIntact(m, "node");
  await expectConverged();
});

test("5. lsyncd.delay changes: only lsyncd steps change, in place", async () => {
  configure(members, { lsyncd: { delay: 1 } });
  const preview = await stack.run("preview");
  expectOk(preview, "preview delay 1");
  const lsyncdSteps = [members.exchange, ...members.nodes].map((m) => `lsyncd-mesh-${m.name}-lsyncd`).sort();
  expect(opsOf(preview, "update")).toEqual(lsyncdSteps);
  expect(opsOf(preview, "replace")).toEqual([]);
  const up = await stack.run("up");
  expectOk(up, "up delay 1");
  expect(opsOf(up, "update")).toEqual(lsyncdSteps);
  await expectConverged();
});

test("6. a new program version that rewords every script replaces nothing and restarts no lsyncd", async () => {
  // A copy of the program whose shared script prelude carries one more comment line.
  const next = join(ROOT, "next-version");
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  for (const p of ["components", "tools", "index.ts", "package.json", "tsconfig.json", "toolchain"]) {
    cpSync(join(__dirname, "..", "..", p), join(next, p), { recursive: true });
  }
  symlinkSync(join(__dirname, "..", "..", "node_modules"), join(next, "node_modules"));
  const bash = join(next, "components", "scripts", "bash.ts");
  const text = readFileSync(bash, "utf8");
  const reworded = text.replace("set -euo pipefail\numask 022\n", "set -euo pipefail\n# reworded by a newer lsyncd-cluster\numask 022\n");
  expect(reworded).not.toBe(text);
  writeFileSync(bash, reworded);

  const pids = async () =>
    [members.exchange, ...members.nodes].map((m) =>
      hosts
        .processes(m.host)
        .filter((p) => p.comm === "lsyncd")
        .map((p) => p.pid),
    );
  const before = await pids();
  const preview = await stack.run("preview", [], next);
  expectOk(preview, "preview of the reworded version");
  expect(opsOf(preview, "replace")).toEqual([]);
  expect(opsOf(preview, "delete")).toEqual([]);
  const up = await stack.run("up", [], next);
  expectOk(up, "up of the reworded version");
  expect(opsOf(up, "replace")).toEqual([]);
  expect(opsOf(up, "update").length).toBe(stepOps(up).size);
  expect(await pids()).toEqual(before);
  await expectConverged();
});

test("7. a node rebuilt empty (new disk, new host key) is re-seeded by the documented recovery", async () => {
  const target = members.nodes.find((m) => m.name === "node01")!;
  const h = target.host;
  // What a rebuild loses: the program's state and services, the sync user, the host keys, the disk.
  await run(
    hosts,
    h,
    [
      "systemctl stop lsyncd nginx || true",
      `umount ${SYNC_DIR}`,
      "sed -i '/lsyncd-cluster/d' /etc/fstab",
      `pkill -KILL -u ${SYNC_USER} || true; userdel ${SYNC_USER} || true`,
      `rm -rf /var/lib/lsyncd-cluster /etc/lsyncd-cluster /etc/lsyncd ${LSYNCD_UNIT} ${NGINX_SITE} /etc/nginx/sites-enabled/lsyncd-cluster`,
      "rm -f /etc/ssh/ssh_host_*",
      "ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key",
    ].join(" && "),
  );
  await hosts.stopSshd(h);
  await hosts.startSshd(h);
  const image = join(hosts.root, h.name, "rebuilt-disk.img");
  execSync(`truncate -s 256M ${image}`);
  const disk = execSync(`losetup --find --show ${image}`).toString().trim();
  // It stays attached for the rest of the suite; the fixture's teardown detaches it with the
  // hosts' own disks (host.sh cleanup: every image under a host's dir).
  const hostKey = (await run(hosts, h, "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub")).trim();
  (h as { hostKey: string }).hostKey = hostKey;
  (h as { disk: string }).disk = disk;
  const exchangeFilesBefore = await run(hosts, members.exchange.host, `find ${SYNC_DIR} -type f | wc -l`);
  // README, "Recovering from mistakes": a rebuilt host → its new hostKey (and disk) in the
  // stack file, then `up --refresh`.
  configure(members);
  const up = await stack.run("up", ["--refresh"]);
  expectOk(up, "up --refresh after the rebuild");
  expect(opsOf(up, "delete")).toEqual([]);
  expect(opsOf(up, "update")).toEqual(expect.arrayContaining(["lsyncd-mesh-seed-node01", "lsyncd-mesh-exchange-trust"]));
  // An update: the seed went through the exchange's temp dir (the node's lsyncd may run).
  expect(seedSaid("node01")).toContain(LATER_SEED);
  expect(await run(hosts, members.exchange.host, `find ${SYNC_DIR} -type f | wc -l`)).toBe(exchangeFilesBefore);
  await expectIntact(target, "node");
  await expectConverged();
});

test("7b. refresh looks at the hosts: a removed file shows as a change, and up puts it back", async () => {
  const node = members.nodes[0];
  await run(hosts, node.host, `rm -f ${NGINX_SITE}`);
  const refresh = await stack.run("refresh");
  expectOk(refresh, "refresh after removing a node's nginx site");
  // Refresh reports every resource as "refresh"; the changed one is in the summary and the text.
  expect(refresh.summary).toMatchObject({ update: 1 });
  expect(refresh.output).toMatch(new RegExp(`~ .*RemoteStep lsyncd-mesh-${node.name}-web `));
  const up = await stack.run("up");
  expectOk(up, "up after that refresh");
  expect(opsOf(up, "update")).toEqual([`lsyncd-mesh-${node.name}-web`]);
  await run(hosts, node.host, `test -f ${NGINX_SITE}`);
  const again = await stack.run("refresh", ["--expect-no-changes"]);
  expectOk(again, "refresh of an unchanged cluster");

  // README, "Recovering from mistakes": re-run every step of one host.
  await run(hosts, node.host, `rm ${HOST_NAME_FILE}`);
  const rerun = await stack.run("up", ["--refresh"]);
  expectOk(rerun, "up --refresh after removing a host's claim");
  const hostSteps = ["ready", "packages", "disk", "sysctl", "identity", "trust", "lsyncd", "web"]
    .map((st) => `lsyncd-mesh-${node.name}-${st}`)
    .sort();
  expect(opsOf(rerun, "update")).toEqual(hostSteps);
  expect(opsOf(rerun, "replace")).toEqual([]);
  await expectIntact(node, "node");
  await expectConverged();
});

test("8. destroy removes the program's files, users and units from every host; the images stay", async () => {
  const everyHost = [members.exchange, ...members.nodes];
  const up = await stack.run("destroy");
  expectOk(up, "destroy");
  for (const m of everyHost) {
    const h = m.host;
    await run(hosts, h, `! id -u ${SYNC_USER} 2>/dev/null`);
    await run(
      hosts,
      h,
      `! test -e ${LSYNCD_UNIT} && ! test -e ${NGINX_SITE} && ! test -e /etc/lsyncd-cluster && ! test -e /var/lib/lsyncd-cluster`,
    );
    await run(hosts, h, `! mountpoint -q ${SYNC_DIR}`);
    // The images are still on the disk.
    const count = await run(
      hosts,
      h,
      `d=$(mktemp -d) && mount ${m.host.disk} "$d" && find "$d" -name 'engine-*' -type f | wc -l; umount "$d"`,
    );
    if (m !== members.exchange)
      expect(Number(count.trim())).toBeGreaterThanOrEqual([...written.keys()].filter((k) => k.startsWith("engine-")).length);
  }
});

test("9. every stack file in the repository passes the CLI's own config check", async () => {
  const repo = join(__dirname, "..", "..");
  const examples = readdirSync(repo)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((name): name is string => name !== undefined);
  expect(examples).toEqual(expect.arrayContaining(["dev", "existing-example", "preview"]));
  for (const example of examples) {
    const shipped = readFileSync(join(repo, `Pulumi.${example}.yaml`), "utf8");
    const existingHosts = /^\s*lsyncd-cluster:hosts:/m.test(shipped);
    const s = new EngineStack(join(ROOT, `example-${example}`), example, toolchainBin());
    // AWS mode makes its own operator key: the README sets sshPrivateKey only for existing hosts.
    s.init(existingHosts ? hosts.operatorPrivateKey : undefined);
    // The example as shipped, plus the encrypted key the README has the user set.
    const secret = readFileSync(s.stackFile, "utf8");
    writeFileSync(
      s.stackFile,
      `${/^encryptionsalt: .*\n/m.exec(secret)?.[0] ?? ""}${shipped.trimEnd()}\n${/^ {2}lsyncd-cluster:sshPrivateKey:\n(?: {4}.*\n)+/m.exec(secret)?.[0] ?? ""}`,
    );
    const preview = await s.run("preview");
    expect(preview.output).not.toMatch(/missing configuration values|is missing configuration/i);
    if (existingHosts) {
      // A preview dials no host: it plans the existing-hosts stack in full.
      expectOk(preview, `preview of Pulumi.${example}.yaml`);
      expect(preview.output).toMatch(/\+ \d+ to create/);
    } else {
      // AWS mode gets past config validation and stops where the AWS provider plugin is
      // needed: no Go module of it is served here (toolchain/build.sh says so).
      expect(preview.code).not.toBe(0);
      expect(preview.output).toMatch(/no resource plugin 'pulumi-resource-aws'|could not find plugin|plugin .*aws/i);
      expect(preview.output).not.toMatch(/RunError|\[[a-zA-Z.]+\] /);
    }
  }
});
