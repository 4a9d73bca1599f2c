// The lsyncd mesh over any set of SSH-reachable hosts: the per-host steps of
// docs/architecture.md, each host's under its own component, with the facts that cross
// hosts (sync keys, host keys, addresses, the data filesystem) flowing as data from each
// host's steps into its peers'.
import * as pulumi from "@pulumi/pulumi";
import { HostConnection, RemoteStep, remoteStep } from "./remoteStep";
import { diskProbe, identityProbe, lsyncdProbe, packagesProbe, readyProbe, sysctlProbe, trustProbe, webProbe } from "./scripts/probes";
import { diskCreate, diskDelete, DiskSource } from "./scripts/diskScript";
import { HostIdentity, identityCreate, identityDelete, parseIdentity } from "./scripts/identityScript";
import { lsyncdCreate, lsyncdDelete } from "./scripts/lsyncdScript";
import { packagesCreate, packagesDelete, packagesFor } from "./scripts/packagesScript";
import { readyCreate, readyDelete } from "./scripts/readyScript";
import { seedCreate, seedDelete } from "./scripts/seedScript";
import { sysctlCreate, sysctlDelete } from "./scripts/sysctlScript";
import { trustCreate, trustDelete } from "./scripts/trustScript";
import { webCreate, webDelete } from "./scripts/webScript";
import { CommonSpec, SYNC_USER } from "./spec";
import { sh } from "./quote";
import { healthFiles, healthPaths } from "./healthFiles";
import { auditInstall } from "./auditFiles";
import { versionsInstall } from "./versionsFiles";

/** The fast disk of a mesh host, as far as the disk step needs to know it. */
export type MeshDisk =
  | { readonly kind: "none" }
  | { readonly kind: "device"; readonly path: string }
  | { readonly kind: "ebs"; readonly volumeId: pulumi.Input<string> }
  | { readonly kind: "instance-store" };

export interface MeshHostArgs {
  /** Short unique name: resource names, ssh alias, outputs. */
  readonly name: string;
  /** How the operator (this program) reaches the host. */
  readonly connection: HostConnection;
  /** Address the other hosts dial to push here (a private IP on AWS). */
  readonly syncAddress: pulumi.Input<string>;
  /** sshd port the other hosts dial. */
  readonly syncPort: number;
  readonly disk: MeshDisk;
  /** Address nginx binds; absent = all. */
  readonly listenAddress?: string;
  /** The host is still booting: the ready step waits for SSH and cloud-init. */
  readonly waitForBoot?: boolean;
  /** Resources that must exist before the first step (instance, volume attachment). */
  readonly dependsOn?: pulumi.Resource[];
  /** Skip the deletes when this resource (the instance) is destroyed anyway. */
  readonly deletedWith?: pulumi.Resource;
}

export interface SyncMeshArgs extends CommonSpec {
  readonly exchange: MeshHostArgs;
  readonly nodes: readonly MeshHostArgs[];
}

export type StepName = "ready" | "packages" | "disk" | "sysctl" | "identity" | "trust" | "lsyncd" | "web";

export interface MeshHostSteps {
  readonly name: string;
  readonly role: "exchange" | "node";
  readonly steps: Partial<Record<StepName, RemoteStep>>;
  readonly identity: pulumi.Output<HostIdentity>;
}

function resolveDisk(disk: MeshDisk): pulumi.Output<DiskSource> {
  switch (disk.kind) {
    case "none":
    case "device":
    case "instance-store":
      return pulumi.output(disk);
    case "ebs":
      return pulumi.output(disk.volumeId).apply((volumeId) => ({ kind: "ebs" as const, volumeId }));
    default: {
      const never: never = disk;
      throw new Error(`unknown disk ${JSON.stringify(never)}`);
    }
  }
}

export class SyncMesh extends pulumi.ComponentResource {
  /** Every host's steps and identity, exchange first. */
  public readonly hosts: MeshHostSteps[];
  /** Host name → its sync public key: what a peer must trust. */
  public readonly syncPublicKeys: pulumi.Output<Record<string, string>>;
  /** Exchange → node seeding steps, by node name. */
  public readonly seeds: Record<string, RemoteStep>;

  constructor(name: string, args: SyncMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:mesh:SyncMesh", name, {}, opts);
    const all = [args.exchange, ...args.nodes];

    // Phase 1, per host, independent of peers: ready → packages → disk → identity; sysctl; web.
    const local = all.map((host) => this.localSteps(name, host, args, host === args.exchange ? "exchange" : "node"));
    const identityOf = new Map(local.map((l) => [l.name, l.identity] as const));
    const hostArgsOf = new Map(all.map((h) => [h.name, h] as const));

    const pushTarget = (peer: string) =>
      pulumi.all([identityOf.get(peer)!, hostArgsOf.get(peer)!.syncAddress]).apply(([id, address]) => ({
        name: peer,
        address,
        port: hostArgsOf.get(peer)!.syncPort,
        hostKey: id.hostKey,
      }));
    const pusher = (peer: string) => identityOf.get(peer)!.apply((id) => ({ name: peer, syncPublicKey: id.syncPublicKey }));

    // Phase 2: trust, which needs the identities of this host's peers.
    const peersOf = (host: MeshHostArgs) => (host === args.exchange ? args.nodes.map((n) => n.name) : [args.exchange.name]);
    for (const l of local) {
      const host = hostArgsOf.get(l.name)!;
      const peers = peersOf(host);
      const create = pulumi
        .all([pulumi.all(peers.map(pusher)), pulumi.all(peers.map(pushTarget))])
        .apply(([pushers, targets]) => trustCreate({ syncDir: args.syncDir, pushers, targets }));
      l.steps.trust = remoteStep(
        `${name}-${l.name}-trust`,
        {
          connection: host.connection,
          host: l.name,
          create,
          delete: trustDelete(args.syncDir),
          probe: trustProbe(),
          dependsOn: [l.steps.identity!],
          deletedWith: host.deletedWith,
        },
        l.component,
      );
    }

    // Phase 3: seed each node from the exchange, then start lsyncd everywhere. An lsyncd
    // waits for the trust of every target: its startup rsync needs them ready to receive.
    const exchangeSteps = local[0];
    this.seeds = {};
    for (const node of args.nodes) {
      const nodeSteps = local.find((l) => l.name === node.name)!;
      // The node's data filesystem is part of the script: a new or wiped disk (a rebuilt
      // node, an instance-store stop/start) is an update, and the seed runs again.
      const create = nodeSteps.steps.disk!.probed.apply(
        // The node prints this value: it goes through the quoting helper like any other.
        (fs) =>
          `${seedCreate(args.syncDir, args.exchange.name, node.name, args.lsyncd.excludes)}: ${sh(`seeds the data filesystem ${fs.trim()} of ${node.name}`)}\n`,
      );
      this.seeds[node.name] = remoteStep(
        `${name}-seed-${node.name}`,
        {
          connection: args.exchange.connection,
          host: args.exchange.name,
          create,
          delete: seedDelete(node.name),
          dependsOn: [exchangeSteps.steps.trust!, nodeSteps.steps.trust!],
          deletedWith: args.exchange.deletedWith,
          timeoutMinutes: 120,
        },
        exchangeSteps.component,
      );
    }
    for (const l of local) {
      const host = hostArgsOf.get(l.name)!;
      const targets = peersOf(host);
      const targetTrust = targets.map((t) => local.find((x) => x.name === t)!.steps.trust!);
      const seed = l.role === "node" ? [this.seeds[l.name]] : [];
      const audit = auditInstall(args, { name: l.name, role: l.role, targets });
      const versions = versionsInstall(args, { name: l.name, role: l.role, targets });
      l.steps.lsyncd = remoteStep(
        `${name}-${l.name}-lsyncd`,
        {
          connection: host.connection,
          create: lsyncdCreate({
            host: l.name,
            syncDir: args.syncDir,
            lsyncd: args.lsyncd,
            targets,
            relayArrivals: l.role === "exchange",
            nothingLost: l.role === "exchange" ? { versions: args.versions, deleteFuse: args.deleteFuse } : undefined,
            extraFiles: [...healthFiles(args), ...audit.files, ...versions.files],
            rootDirs: versions.dirs,
            timers: [...audit.timers, ...versions.timers],
          }),
          delete: lsyncdDelete(
            [...healthPaths(), ...audit.paths, ...versions.paths],
            [...audit.timers, ...versions.timers],
            versions.stateDirs,
          ),
          probe: lsyncdProbe(),
          host: l.name,
          dependsOn: [l.steps.trust!, l.steps.sysctl!, ...targetTrust, ...seed],
          deletedWith: host.deletedWith,
        },
        l.component,
      );
    }

    this.hosts = local;
    this.syncPublicKeys = pulumi
      .all(local.map((l) => l.identity.apply((id) => [l.name, id.syncPublicKey] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.registerOutputs({ syncPublicKeys: this.syncPublicKeys });
  }

  private localSteps(name: string, host: MeshHostArgs, args: SyncMeshArgs, role: "exchange" | "node") {
    // One component per host: `pulumi preview` groups a host's steps, and a step's URN
    // names its host.
    const component = new MeshHost(`${name}-${host.name}`, { role }, { parent: this });
    const step = (
      stepName: StepName,
      create: pulumi.Input<string>,
      del: string,
      dependsOn: pulumi.Input<pulumi.Resource>[],
      extra: { waitForBoot?: boolean; timeoutMinutes?: number; payload?: pulumi.Input<string>; probe?: string } = {},
    ) =>
      remoteStep(
        `${name}-${host.name}-${stepName}`,
        { connection: host.connection, host: host.name, create, delete: del, dependsOn, deletedWith: host.deletedWith, ...extra },
        component,
      );

    const web = role === "node" && args.web.enabled;
    const steps: Partial<Record<StepName, RemoteStep>> = {};
    // Payloads: what each step puts on the host that only an undo can change (unmount, a
    // new sync user). Every other change is an in-place update.
    steps.ready = step("ready", readyCreate(host.name), readyDelete(host.name), host.dependsOn ?? [], {
      waitForBoot: host.waitForBoot,
      timeoutMinutes: host.waitForBoot ? 20 : 5,
      probe: readyProbe(),
    });
    const needs = packagesFor(web);
    // No payload: a new package list installs what is missing in place; a replace would
    // remove lsyncd, rsync and nginx under the running cluster first.
    steps.packages = step("packages", packagesCreate(needs), packagesDelete(), [steps.ready], {
      timeoutMinutes: 20,
      probe: packagesProbe(needs.map((n) => n.name)),
    });
    const disk = resolveDisk(host.disk);
    steps.disk = step(
      "disk",
      disk.apply((d) => diskCreate(args.syncDir, d)),
      diskDelete(args.syncDir, host.disk.kind !== "none"),
      [steps.packages],
      {
        timeoutMinutes: 10,
        payload: disk.apply((d) => JSON.stringify({ syncDir: args.syncDir, disk: d })),
        probe: diskProbe(args.syncDir),
      },
    );
    steps.sysctl = step("sysctl", sysctlCreate(args.inotify), sysctlDelete(), [steps.ready], { probe: sysctlProbe() });
    steps.identity = step("identity", identityCreate(args.syncDir), identityDelete(), [steps.disk], {
      payload: JSON.stringify({ user: SYNC_USER, syncDir: args.syncDir }),
      probe: identityProbe(),
    });
    if (web) {
      steps.web = step(
        "web",
        webCreate({ syncDir: args.syncDir, port: args.web.port, listenAddress: host.listenAddress }),
        webDelete(),
        [steps.disk, steps.identity],
        { probe: webProbe() },
      );
    }
    const identity = steps.identity.stdout.apply((out) => parseIdentity(host.name, out));
    return { name: host.name, role, steps, identity, component };
  }
}

/** The steps of one host, grouped. */
export class MeshHost extends pulumi.ComponentResource {
  constructor(name: string, args: { role: "exchange" | "node" }, opts: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:mesh:Host", name, {}, opts);
    this.registerOutputs({ role: args.role });
  }
}
