// The lsyncd mesh over any set of SSH-reachable hosts: the plan of meshPlan.ts made real,
// one RemoteStep per planned step, each under its host's component. The facts that cross
// hosts (sync keys, host keys, addresses, the data filesystem) flow as outputs from the
// step or resource that knows them into the steps that declared them.
import * as pulumi from "@pulumi/pulumi";
import { Fact, factsFor, MeshPlan, PlanHost, planMesh, Role, StepName } from "./meshPlan";
import { HostConnection, RemoteStep, remoteStep } from "./remoteStep";
import { DiskSource } from "./scripts/diskScript";
import { HostIdentity, parseIdentity } from "./scripts/identityScript";
import { CommonSpec } from "./spec";

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

export interface MeshHostSteps {
  readonly name: string;
  readonly role: Role;
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

function planHost(host: MeshHostArgs, role: Role): PlanHost {
  return {
    name: host.name,
    role,
    diskKind: host.disk.kind,
    syncPort: host.syncPort,
    listenAddress: host.listenAddress,
    waitForBoot: host.waitForBoot === true,
  };
}

export class SyncMesh extends pulumi.ComponentResource {
  /** What this mesh is made of, as data. */
  public readonly plan: MeshPlan;
  /** Every host's steps and identity, exchange first. */
  public readonly hosts: MeshHostSteps[];
  /** Host name → its sync public key: what a peer must trust. */
  public readonly syncPublicKeys: pulumi.Output<Record<string, string>>;
  /** Exchange → node seeding steps, by node name. */
  public readonly seeds: Record<string, RemoteStep> = {};

  constructor(name: string, args: SyncMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:mesh:SyncMesh", name, {}, opts);
    const all = [args.exchange, ...args.nodes];
    const roleOf = (h: MeshHostArgs): Role => (h === args.exchange ? "exchange" : "node");
    this.plan = planMesh(
      args,
      planHost(args.exchange, "exchange"),
      args.nodes.map((n) => planHost(n, "node")),
    );

    const hostArgs = new Map(all.map((h) => [h.name, h] as const));
    const argsOf = (host: string): MeshHostArgs => {
      const h = hostArgs.get(host);
      if (!h) throw new Error(`the plan names a host ${host} the mesh was not given`);
      return h;
    };
    // One component per host: `pulumi preview` groups a host's steps, and a step's URN
    // names its host.
    const components = new Map(all.map((h) => [h.name, new MeshHost(`${name}-${h.name}`, { role: roleOf(h) }, { parent: this })] as const));
    const componentOf = (host: string): MeshHost => {
      const c = components.get(host);
      if (!c) throw new Error(`the plan names a host ${host} the mesh was not given`);
      return c;
    };
    const made = new Map<string, RemoteStep>();
    const identities = new Map<string, pulumi.Output<HostIdentity>>();
    const madeStep = (id: string): RemoteStep => {
      const s = made.get(id);
      if (!s) throw new Error(`step ${id} is used before the plan made it`);
      return s;
    };
    const identityOf = (host: string): pulumi.Output<HostIdentity> => {
      const identity = identities.get(host);
      if (!identity) throw new Error(`the identity of ${host} is used before its identity step`);
      return identity;
    };
    const factValue = (f: Fact): pulumi.Output<unknown> => {
      switch (f.kind) {
        case "identity":
          return identityOf(f.host);
        case "syncAddress":
          return pulumi.output(argsOf(f.host).syncAddress);
        case "disk":
          return resolveDisk(argsOf(f.host).disk);
        case "dataFilesystem":
          return madeStep(`${f.host}/disk`).probed;
      }
    };

    for (const planned of this.plan.steps) {
      const host = argsOf(planned.host);
      const facts = pulumi.all(planned.uses.map(factValue)).apply((values) => factsFor(planned, values));
      const step = remoteStep(
        `${name}-${planned.resourceName}`,
        {
          connection: host.connection,
          host: planned.host,
          create: facts.apply(planned.create),
          delete: planned.delete,
          payload: planned.payload && facts.apply(planned.payload),
          probe: planned.probe,
          dependsOn: [...planned.after.map(madeStep), ...(planned.step === "ready" ? (host.dependsOn ?? []) : [])],
          deletedWith: host.deletedWith,
          waitForBoot: planned.waitForBoot,
          timeoutMinutes: planned.timeoutMinutes,
        },
        componentOf(planned.host),
      );
      made.set(planned.id, step);
      if (planned.step === "identity")
        identities.set(
          planned.host,
          step.stdout.apply((out) => parseIdentity(planned.host, out)),
        );
      if (planned.seeds !== undefined) this.seeds[planned.seeds] = step;
    }

    this.hosts = all.map((h) => ({
      name: h.name,
      role: roleOf(h),
      steps: Object.fromEntries(
        this.plan.steps.filter((s) => s.host === h.name && s.seeds === undefined).map((s) => [s.step, madeStep(s.id)]),
      ),
      identity: identityOf(h.name),
    }));
    this.syncPublicKeys = pulumi
      .all(this.hosts.map((l) => l.identity.apply((id) => [l.name, id.syncPublicKey] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.registerOutputs({ syncPublicKeys: this.syncPublicKeys });
  }
}

/** The steps of one host, grouped. */
export class MeshHost extends pulumi.ComponentResource {
  constructor(name: string, args: { role: Role }, opts: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:mesh:Host", name, {}, opts);
    this.registerOutputs({ role: args.role });
  }
}
