// The lsyncd mesh over any set of SSH-reachable hosts: the per-host steps of DESIGN.md,
// with the facts that cross hosts (sync keys, host keys, addresses) flowing as data from
// each host's identity step into its peers' trust steps.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { HostConnection, remoteStep } from "./remoteStep";
import { diskCreate, diskDelete, DiskSource } from "./scripts/diskScript";
import { HostIdentity, identityCreate, identityDelete, parseIdentity } from "./scripts/identityScript";
import { lsyncdCreate, lsyncdDelete } from "./scripts/lsyncdScript";
import { packagesCreate, packagesDelete, packagesFor } from "./scripts/packagesScript";
import { readyCreate, readyDelete } from "./scripts/readyScript";
import { seedCreate, seedDelete } from "./scripts/seedScript";
import { sysctlCreate, sysctlDelete } from "./scripts/sysctlScript";
import { trustCreate, trustDelete } from "./scripts/trustScript";
import { webCreate, webDelete } from "./scripts/webScript";
import { CommonSpec } from "./spec";
import { healthFiles, healthPaths } from "./healthFiles";
import { auditInstall } from "./auditFiles";

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
  readonly steps: Partial<Record<StepName, command.remote.Command>>;
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
  public readonly seeds: Record<string, command.remote.Command>;

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
    const pusher = (peer: string) =>
      identityOf.get(peer)!.apply((id) => ({ name: peer, syncPublicKey: id.syncPublicKey }));

    // Phase 2: trust, which needs the identities of this host's peers.
    const peersOf = (host: MeshHostArgs) =>
      host === args.exchange ? args.nodes.map((n) => n.name) : [args.exchange.name];
    for (const l of local) {
      const host = hostArgsOf.get(l.name)!;
      const peers = peersOf(host);
      const create = pulumi
        .all([pulumi.all(peers.map(pusher)), pulumi.all(peers.map(pushTarget))])
        .apply(([pushers, targets]) => trustCreate({ syncDir: args.syncDir, pushers, targets }));
      l.steps.trust = remoteStep(
        `${name}-${l.name}-trust`,
        { connection: host.connection, create, delete: trustDelete(args.syncDir), dependsOn: [l.steps.identity!], deletedWith: host.deletedWith },
        this,
      );
    }

    // Phase 3: seed each node from the exchange, then start lsyncd everywhere. An lsyncd
    // waits for the trust of every target: its startup rsync needs them ready to receive.
    const exchangeSteps = local[0];
    this.seeds = {};
    for (const node of args.nodes) {
      const nodeSteps = local.find((l) => l.name === node.name)!;
      // Re-seed exactly when the node's identity changes, i.e. the node was rebuilt.
      const create = identityOf.get(node.name)!.apply(
        (id) => `${seedCreate(args.syncDir, args.exchange.name, node.name, args.lsyncd.excludes)}# for node identity ${id.hostKey} ${id.syncPublicKey}\n`,
      );
      this.seeds[node.name] = remoteStep(
        `${name}-seed-${node.name}`,
        {
          connection: args.exchange.connection,
          create,
          delete: seedDelete(node.name),
          dependsOn: [exchangeSteps.steps.trust!, nodeSteps.steps.trust!],
          deletedWith: args.exchange.deletedWith,
        },
        this,
      );
    }
    for (const l of local) {
      const host = hostArgsOf.get(l.name)!;
      const targets = peersOf(host);
      const targetTrust = targets.map((t) => local.find((x) => x.name === t)!.steps.trust!);
      const seed = l.role === "node" ? [this.seeds[l.name]] : [];
      const audit = auditInstall(args, { name: l.name, role: l.role, targets });
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
            extraFiles: [...healthFiles(args), ...audit.files],
            timers: audit.timers,
          }),
          delete: lsyncdDelete([...healthPaths(), ...audit.paths], audit.timers),
          dependsOn: [l.steps.trust!, l.steps.sysctl!, ...targetTrust, ...seed],
          deletedWith: host.deletedWith,
        },
        this,
      );
    }

    this.hosts = local;
    this.syncPublicKeys = pulumi
      .all(local.map((l) => l.identity.apply((id) => [l.name, id.syncPublicKey] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.registerOutputs({ syncPublicKeys: this.syncPublicKeys });
  }

  private localSteps(name: string, host: MeshHostArgs, args: SyncMeshArgs, role: "exchange" | "node") {
    const step = (
      stepName: StepName,
      create: pulumi.Input<string>,
      del: string,
      dependsOn: pulumi.Input<pulumi.Resource>[],
      extra: { waitForBoot?: boolean; createTimeout?: string; payload?: pulumi.Input<string> } = {},
    ) =>
      remoteStep(
        `${name}-${host.name}-${stepName}`,
        { connection: host.connection, create, delete: del, dependsOn, deletedWith: host.deletedWith, ...extra },
        this,
      );

    const web = role === "node" && args.web.enabled;
    const steps: Partial<Record<StepName, command.remote.Command>> = {};
    // Payloads: what each step puts on the host. Steps whose undo is disruptive (unmount,
    // a new sync key, removing packages) are replaced only when that changes.
    steps.ready = step("ready", readyCreate(), readyDelete(), host.dependsOn ?? [], {
      waitForBoot: host.waitForBoot,
      createTimeout: host.waitForBoot ? "20m" : "5m",
      payload: "state dirs",
    });
    const needs = packagesFor(web);
    steps.packages = step("packages", packagesCreate(needs), packagesDelete(), [steps.ready], {
      createTimeout: "20m",
      payload: JSON.stringify(needs),
    });
    const disk = resolveDisk(host.disk);
    steps.disk = step(
      "disk",
      disk.apply((d) => diskCreate(args.syncDir, d)),
      diskDelete(args.syncDir, host.disk.kind !== "none"),
      [steps.packages],
      { createTimeout: "10m", payload: disk.apply((d) => JSON.stringify({ syncDir: args.syncDir, disk: d })) },
    );
    steps.sysctl = step("sysctl", sysctlCreate(args.inotify), sysctlDelete(), [steps.ready]);
    steps.identity = step("identity", identityCreate(args.syncDir), identityDelete(), [steps.disk], {
      payload: JSON.stringify({ user: "lsyncd-sync", syncDir: args.syncDir }),
    });
    if (web) {
      steps.web = step(
        "web",
        webCreate({ syncDir: args.syncDir, port: args.web.port, listenAddress: host.listenAddress }),
        webDelete(),
        [steps.disk, steps.identity],
      );
    }
    const identity = steps.identity.stdout.apply((out) => parseIdentity(host.name, out));
    return { name: host.name, role, steps, identity };
  }
}
