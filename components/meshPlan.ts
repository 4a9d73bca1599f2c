// The mesh as data: hosts + settings → the list of remote steps, each with what it waits
// for, what it reads from other steps, what it writes and how it is undone. Pure — no
// Pulumi, no I/O — so the order, the payloads and the longest chain are unit-tested as
// plain values (test/unit/meshPlan.test.ts). `SyncMesh` (syncMesh.ts) only makes each
// planned step a resource. docs/architecture.md, "Per-host steps", says why each step is
// where it is.
import { auditInstall } from "./auditFiles";
import { versionsInstall } from "./versionsFiles";
import { healthFiles, healthPaths } from "./render/healthFiles";
import { sh } from "./quote";
import { diskProbe, identityProbe, lsyncdProbe, packagesProbe, readyProbe, sysctlProbe, trustProbe, webProbe } from "./scripts/probes";
import { diskCreate, diskDelete, DiskSource } from "./scripts/diskScript";
import { HostIdentity, identityCreate, identityDelete } from "./scripts/identityScript";
import { lsyncdCreate, lsyncdDelete } from "./scripts/lsyncdScript";
import { packagesCreate, packagesDelete, packagesFor } from "./scripts/packagesScript";
import { readyCreate, readyDelete } from "./scripts/readyScript";
import { seedCreate, seedDelete } from "./scripts/seedScript";
import { sysctlCreate, sysctlDelete } from "./scripts/sysctlScript";
import { trustCreate, trustDelete } from "./scripts/trustScript";
import { webCreate, webDelete } from "./scripts/webScript";
import { CommonSpec } from "./spec";
import { SYNC_USER } from "./hostLayout";

export type Role = "exchange" | "node";
export type DiskKind = DiskSource["kind"];

/** A host as the plan needs it: everything known before anything is created. */
export interface PlanHost {
  readonly name: string;
  readonly role: Role;
  readonly diskKind: DiskKind;
  /** sshd port the other hosts dial to push here. */
  readonly syncPort: number;
  /** Address nginx binds; absent = all. */
  readonly listenAddress?: string;
  /** Still booting when the plan runs (a new instance): the ready step waits for it. */
  readonly waitForBoot: boolean;
}

/**
 * What a step learns from other steps or resources at deploy time, by host: the identity
 * step's keys, the address and port peers dial, the disk as the cloud describes it (an
 * EBS volume id), and the data filesystem the disk step found.
 */
export type Fact =
  | { readonly kind: "identity"; readonly host: string }
  | { readonly kind: "syncAddress"; readonly host: string }
  | { readonly kind: "disk"; readonly host: string }
  | { readonly kind: "dataFilesystem"; readonly host: string };

/** The facts' values, read by kind and host. */
export interface Facts {
  identity(host: string): HostIdentity;
  syncAddress(host: string): string;
  disk(host: string): DiskSource;
  dataFilesystem(host: string): string;
}

export type StepName = "ready" | "packages" | "disk" | "sysctl" | "identity" | "trust" | "seed" | "lsyncd" | "web";

export interface PlannedStep {
  /** `host/step`, or `exchange/seed:node` for a seed: unique in the plan. */
  readonly id: string;
  /** The host whose component holds the step and where its commands run. */
  readonly host: string;
  readonly step: StepName;
  /** The node a seed fills; absent otherwise. */
  readonly seeds?: string;
  /** Resource name after the mesh's own name: unchanged since 0.2, so deployed stacks keep their URNs. */
  readonly resourceName: string;
  /** Ids of the steps that must be done first. */
  readonly after: readonly string[];
  /** Facts `create` and `payload` read (and nothing else). */
  readonly uses: readonly Fact[];
  readonly create: (facts: Facts) => string;
  /**
   * What the step puts on the host that only an undo can change (a mount, the sync user):
   * a change replaces the step (delete, then create). Absent: every change is an update.
   */
  readonly payload?: (facts: Facts) => string;
  readonly delete: string;
  /** Read-only script printing what the step put there (`pulumi refresh` compares it). */
  readonly probe?: string;
  readonly timeoutMinutes: number;
  readonly waitForBoot: boolean;
}

export interface MeshPlan {
  readonly steps: readonly PlannedStep[];
  /** The longest chain of steps that must run one after another. */
  readonly longestChain: number;
}

const id = (host: string, step: StepName): string => `${host}/${step}`;
const seedId = (exchange: string, node: string): string => `${exchange}/seed:${node}`;

/** Who a host pushes to, and who pushes to it: the exchange ↔ every node. */
export function peersOf(host: PlanHost, exchange: PlanHost, nodes: readonly PlanHost[]): string[] {
  return host.role === "exchange" ? nodes.map((n) => n.name) : [exchange.name];
}

/** A planned step before its id, resource name and defaults are filled in. */
type Draft = Omit<PlannedStep, "id" | "resourceName" | "waitForBoot" | "timeoutMinutes"> & Partial<PlannedStep>;

export function planMesh(spec: CommonSpec, exchange: PlanHost, nodes: readonly PlanHost[]): MeshPlan {
  checkHosts(exchange, nodes);
  const all = [exchange, ...nodes];
  // In this order, every step after the steps it waits for.
  const drafts = [
    ...all.flatMap((h) => hostSteps(spec, h)),
    ...all.flatMap((h) => trustStep(spec, h, exchange, nodes)),
    ...nodes.flatMap((n) => seedStep(spec, exchange, n)),
    ...all.flatMap((h) => lsyncdStep(spec, h, exchange, nodes)),
  ];
  const steps = drafts.map((s): PlannedStep => ({
    id: s.seeds ? seedId(s.host, s.seeds) : id(s.host, s.step),
    resourceName: s.seeds ? `seed-${s.seeds}` : `${s.host}-${s.step}`,
    waitForBoot: false,
    timeoutMinutes: 5,
    ...s,
  }));
  return { steps, longestChain: longestChain(steps) };
}

/** Per host, independent of peers: ready → packages → disk → identity; sysctl; web. */
function hostSteps(spec: CommonSpec, host: PlanHost): Draft[] {
  const drafts: Draft[] = [];
  const h = host.name;
  const web = host.role === "node" && spec.web.enabled;
  drafts.push({
    host: h,
    step: "ready",
    after: [],
    uses: [],
    create: () => readyCreate(h),
    delete: readyDelete(h),
    probe: readyProbe(),
    waitForBoot: host.waitForBoot,
    timeoutMinutes: host.waitForBoot ? 20 : 5,
  });
  const needs = packagesFor(web);
  // No payload: a new package list installs what is missing in place; a replace would
  // remove lsyncd, rsync and nginx under the running cluster first.
  drafts.push({
    host: h,
    step: "packages",
    after: [id(h, "ready")],
    uses: [],
    create: () => packagesCreate(needs),
    delete: packagesDelete(),
    probe: packagesProbe(needs.map((n) => n.name)),
    timeoutMinutes: 20,
  });
  const disk: Fact = { kind: "disk", host: h };
  drafts.push({
    host: h,
    step: "disk",
    after: [id(h, "packages")],
    uses: [disk],
    create: (f) => diskCreate(spec.syncDir, f.disk(h)),
    // The mount point and the device: changing either means unmounting first.
    payload: (f) => JSON.stringify({ syncDir: spec.syncDir, disk: f.disk(h) }),
    delete: diskDelete(spec.syncDir, host.diskKind !== "none"),
    probe: diskProbe(spec.syncDir),
    timeoutMinutes: 10,
  });
  drafts.push({
    host: h,
    step: "sysctl",
    after: [id(h, "ready")],
    uses: [],
    create: () => sysctlCreate(spec.inotify),
    delete: sysctlDelete(),
    probe: sysctlProbe(),
  });
  drafts.push({
    host: h,
    step: "identity",
    after: [id(h, "disk")],
    uses: [],
    create: () => identityCreate(spec.syncDir),
    // A new sync user or sync dir: the old user and keys go first.
    payload: () => JSON.stringify({ user: SYNC_USER, syncDir: spec.syncDir }),
    delete: identityDelete(),
    probe: identityProbe(),
  });
  if (web) {
    drafts.push({
      host: h,
      step: "web",
      after: [id(h, "disk"), id(h, "identity")],
      uses: [],
      create: () => webCreate({ syncDir: spec.syncDir, port: spec.web.port, listenAddress: host.listenAddress }),
      delete: webDelete(),
      probe: webProbe(),
    });
  }
  return drafts;
}

/** Trust needs the identities (and addresses) of the host's peers. */
function trustStep(spec: CommonSpec, host: PlanHost, exchange: PlanHost, nodes: readonly PlanHost[]): Draft[] {
  const drafts: Draft[] = [];
  const h = host.name;
  const peers = peersOf(host, exchange, nodes);
  drafts.push({
    host: h,
    step: "trust",
    after: [id(h, "identity")],
    uses: peers.flatMap((p): Fact[] => [
      { kind: "identity", host: p },
      { kind: "syncAddress", host: p },
    ]),
    create: (f) =>
      trustCreate({
        syncDir: spec.syncDir,
        pushers: peers.map((p) => ({ name: p, syncPublicKey: f.identity(p).syncPublicKey })),
        targets: peers.map((p) => ({
          name: p,
          address: f.syncAddress(p),
          port: portOf([exchange, ...nodes], p),
          hostKey: f.identity(p).hostKey,
        })),
      }),
    delete: trustDelete(spec.syncDir),
    probe: trustProbe(),
  });
  return drafts;
}

/** Seed each node from the exchange once both trust each other, before its lsyncd starts. */
function seedStep(spec: CommonSpec, exchange: PlanHost, node: PlanHost): Draft[] {
  const drafts: Draft[] = [];
  drafts.push({
    host: exchange.name,
    step: "seed",
    seeds: node.name,
    after: [id(exchange.name, "trust"), id(node.name, "trust")],
    uses: [{ kind: "dataFilesystem", host: node.name }],
    // The node's data filesystem is part of the script: a new or wiped disk (a rebuilt
    // node, an instance-store stop/start) changes it, and the seed runs again — an
    // update, since the seed has nothing to undo. The host prints the value: quoted.
    create: (f) =>
      `${seedCreate(spec.syncDir, exchange.name, node.name, spec.lsyncd.excludes)}: ${sh(`seeds the data filesystem ${f.dataFilesystem(node.name).trim()} of ${node.name}`)}\n`,
    delete: seedDelete(node.name),
    timeoutMinutes: 120,
  });
  return drafts;
}

/**
 * lsyncd last: its startup rsync needs every target's trust, and a node's its seed. The
 * exchange's does not wait for seeds: it must relay deletes to a new node as soon as it can.
 * Made to wait (so that a new node was filled by its seed alone), deletes made elsewhere
 * during a seed never reached the node, and its startup sync pushed them back (review).
 */
function lsyncdStep(spec: CommonSpec, host: PlanHost, exchange: PlanHost, nodes: readonly PlanHost[]): Draft[] {
  const drafts: Draft[] = [];
  const h = host.name;
  const targets = peersOf(host, exchange, nodes);
  const audit = auditInstall(spec, { name: h, role: host.role, targets });
  // Versions, the delete fuse and their tools live on the exchange only (issue 13).
  const versions = versionsInstall(spec, { name: h, role: host.role, targets });
  drafts.push({
    host: h,
    step: "lsyncd",
    after: [
      id(h, "trust"),
      id(h, "sysctl"),
      ...targets.map((t) => id(t, "trust")),
      ...(host.role === "node" ? [seedId(exchange.name, h)] : []),
    ],
    uses: [],
    create: () =>
      lsyncdCreate({
        host: h,
        syncDir: spec.syncDir,
        lsyncd: spec.lsyncd,
        targets,
        relayArrivals: host.role === "exchange",
        nothingLost: host.role === "exchange" ? { versions: spec.versions, deleteFuse: spec.deleteFuse } : undefined,
        extraFiles: [...healthFiles(spec), ...audit.files, ...versions.files],
        rootDirs: versions.dirs,
        timers: [...audit.timers, ...versions.timers],
      }),
    delete: lsyncdDelete([...healthPaths(), ...audit.paths, ...versions.paths], [...audit.timers, ...versions.timers], versions.stateDirs),
    probe: lsyncdProbe(),
  });
  return drafts;
}

function portOf(hosts: readonly PlanHost[], name: string): number {
  const host = hosts.find((h) => h.name === name);
  if (!host) throw new Error(`planMesh: no host ${name}`);
  return host.syncPort;
}

/** Names are identities (resource names, ssh aliases, temp dirs): one each. */
function checkHosts(exchange: PlanHost, nodes: readonly PlanHost[]): void {
  if (exchange.role !== "exchange" || nodes.some((n) => n.role !== "node")) {
    throw new Error("planMesh: the exchange must have role exchange and every node role node");
  }
  const seen = new Set<string>();
  for (const h of [exchange, ...nodes]) {
    if (seen.has(h.name)) throw new Error(`planMesh: host name ${h.name} appears twice`);
    seen.add(h.name);
  }
}

/** Steps on the longest path through `after` (the plan is acyclic by construction). */
export function longestChain(steps: readonly PlannedStep[]): number {
  const byId = new Map(steps.map((s) => [s.id, s] as const));
  const depth = new Map<string, number>();
  const visit = (s: PlannedStep, path: ReadonlySet<string>): number => {
    const known = depth.get(s.id);
    if (known !== undefined) return known;
    if (path.has(s.id)) throw new Error(`plan has a cycle through ${s.id}`);
    const inner = new Set(path).add(s.id);
    const d =
      1 +
      Math.max(
        0,
        ...s.after.map((a) => {
          const dep = byId.get(a);
          if (!dep) throw new Error(`${s.id} waits for ${a}, which is not in the plan`);
          return visit(dep, inner);
        }),
      );
    depth.set(s.id, d);
    return d;
  };
  return Math.max(0, ...steps.map((s) => visit(s, new Set())));
}

/**
 * The facts a step declared, as `Facts`, from their resolved values (in `uses` order).
 * Reading one it did not declare throws: the realizer waits only for declared facts, so
 * an undeclared read would be a race.
 */
export function factsFor(step: PlannedStep, values: readonly unknown[]): Facts {
  const get = (kind: Fact["kind"], host: string): unknown => {
    const i = step.uses.findIndex((u) => u.kind === kind && u.host === host);
    if (i < 0) throw new Error(`${step.id} reads the ${kind} of ${host} without declaring it in uses`);
    return values[i];
  };
  return {
    identity: (host) => get("identity", host) as HostIdentity,
    syncAddress: (host) => get("syncAddress", host) as string,
    disk: (host) => get("disk", host) as DiskSource,
    dataFilesystem: (host) => get("dataFilesystem", host) as string,
  };
}
