// One remote step: a script run as root over SSH, with the project's lifecycle rules in
// one place (docs/architecture.md, "Remote steps"):
// - `payload` is what the step puts on the host that can only change by undoing it first
//   (a disk's device and mount point, the sync user). A payload change replaces the step:
//   the old delete runs, then the new create. Anything else — the script's wording, a
//   peer list, a delay — is an in-place update: create runs again, and every create is
//   idempotent, so nothing is torn down under a running cluster.
// - `probe` prints what the step put there; `pulumi refresh` runs it, and a different
//   answer makes the next `up` run create again.
// - The delete and connection stored with the step are the ones that run on destroy.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { remoteStepProvider, StepConnection } from "./remote/provider";
import { asRoot } from "./scripts/bash";
import { ownerGuard } from "./scripts/ownerGuard";

export interface HostConnection {
  readonly host: pulumi.Input<string>;
  readonly port: number;
  readonly user: string;
  readonly privateKey: pulumi.Input<string>;
  /** Pinned host key of this host: the only key a connection accepts. */
  readonly hostKey: pulumi.Input<string>;
  /** The server behind the address, where known (EC2 instance id): a new one re-runs every step. */
  readonly serverId?: pulumi.Input<string>;
}

export interface RemoteStepArgs {
  readonly connection: HostConnection;
  /** The cluster host the step runs on: its delete leaves a server claimed by another alone. */
  readonly host: string;
  /** The create script (plain bash; run as root). */
  readonly create: pulumi.Input<string>;
  /** The script that undoes create. */
  readonly delete: pulumi.Input<string>;
  /** Replace (delete, then create) when this changes; default: never. */
  readonly payload?: pulumi.Input<string>;
  /** A read-only script printing what the step put on the host (plain bash; as root). */
  readonly probe?: string;
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  readonly deletedWith?: pulumi.Resource;
  /** Keep dialing while the host is booting (bounded by `timeoutMinutes`). */
  readonly waitForBoot?: boolean;
  /** Longest the script may run (and, with waitForBoot, the host may take to answer). */
  readonly timeoutMinutes?: number;
  /** Earlier names of this step, so a rename or a new parent is not a replace. */
  readonly aliases?: pulumi.Input<pulumi.Alias | string>[];
}

/** The type token the engine records for a step (module "lsyncd-cluster", type "RemoteStep"). */
export const REMOTE_STEP_TYPE = "pulumi-nodejs:dynamic/lsyncd-cluster:RemoteStep";

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A step on one host; `stdout` is what its create printed. */
export class RemoteStep extends pulumi.dynamic.Resource {
  // `declare`: a class field would be re-initialised to undefined after super() set it.
  declare public readonly stdout: pulumi.Output<string>;
  /** What the probe printed after the last create or update. */
  declare public readonly probed: pulumi.Output<string>;

  constructor(name: string, args: RemoteStepArgs, opts: pulumi.CustomResourceOptions) {
    const user = args.connection.user;
    const minutes = args.timeoutMinutes ?? 5;
    const connection: pulumi.Input<StepConnection> = pulumi.secret(
      pulumi
        .all([args.connection.host, args.connection.privateKey, args.connection.hostKey, args.connection.serverId])
        .apply(([host, privateKey, hostKey, serverId]) => {
          // Defence in depth (config already requires it): never a connection without a pin.
          if (!hostKey) throw new Error(`${name}: no pinned host key for ${host}; the program connects to pinned hosts only`);
          return { host, port: args.connection.port, user, privateKey, hostKey, ...(serverId ? { serverId } : {}) };
        }),
    );
    super(
      remoteStepProvider,
      name,
      {
        connection,
        create: pulumi.output(args.create).apply((s) => asRoot(user, s)),
        delete: pulumi.output(args.delete).apply((s) => asRoot(user, ownerGuard(args.host) + s)),
        payload: pulumi.output(args.payload ?? "").apply(sha256),
        probe: args.probe === undefined ? "" : asRoot(user, args.probe),
        // A booting host may refuse SSH for minutes; a running one that does is broken.
        dialSeconds: args.waitForBoot ? minutes * 60 : 60,
        commandSeconds: minutes * 60,
        stdout: undefined,
        probed: undefined,
        drifted: undefined,
        hostKeyChanged: undefined,
      },
      { ...opts, additionalSecretOutputs: ["connection"] },
      "lsyncd-cluster",
      "RemoteStep",
    );
  }
}

export function remoteStep(name: string, args: RemoteStepArgs, parent: pulumi.Resource): RemoteStep {
  return new RemoteStep(name, args, {
    parent,
    dependsOn: args.dependsOn,
    deletedWith: args.deletedWith,
    aliases: args.aliases,
    // The old delete must run before the new create, or it would remove what the
    // replacement just wrote.
    deleteBeforeReplace: true,
  });
}
