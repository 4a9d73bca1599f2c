// One remote step = one remote.Command with the project's rules applied in one place:
// triggers are the hash of the script (a payload change replaces the step), the old
// delete runs before the new create, and nothing from the previous run leaks into env.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { asRoot } from "./scripts/bash";

export interface HostConnection {
  readonly host: pulumi.Input<string>;
  readonly port: number;
  readonly user: string;
  readonly privateKey: pulumi.Input<string>;
  /** Pinned host key of this host, when known. */
  readonly hostKey?: pulumi.Input<string>;
}

export interface RemoteStepArgs {
  readonly connection: HostConnection;
  /** The create script (plain bash; run as root). */
  readonly create: pulumi.Input<string>;
  /**
   * What the step puts on the host, when that is less than the whole script (a disk's
   * device and mount point, say). Its hash is the trigger: a change replaces the step
   * (delete, then create). A change of the script alone is an update: create runs again,
   * which is safe because every create is idempotent, and nothing is torn down (a disk is
   * not unmounted under nginx because a newer program version words its script differently).
   * Default: the whole create script.
   */
  readonly payload?: pulumi.Input<string>;
  /** The script that undoes create. */
  readonly delete: string;
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  readonly deletedWith?: pulumi.Resource;
  /** Dial forever (bounded by `createTimeout`): for the first step on a booting host. */
  readonly waitForBoot?: boolean;
  readonly createTimeout?: string;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export function remoteStep(name: string, args: RemoteStepArgs, parent: pulumi.Resource): command.remote.Command {
  const user = args.connection.user;
  const create = pulumi.output(args.create).apply((s) => asRoot(user, s));
  return new command.remote.Command(
    name,
    {
      connection: {
        host: args.connection.host,
        port: args.connection.port,
        user,
        privateKey: args.connection.privateKey,
        hostKey: args.connection.hostKey,
        // A booting instance refuses SSH for a minute or two; elsewhere fail fast.
        dialErrorLimit: args.waitForBoot ? -1 : 10,
        perDialTimeout: 15,
      },
      create,
      delete: asRoot(user, args.delete),
      triggers: [args.payload === undefined ? create.apply(sha256) : pulumi.output(args.payload).apply(sha256)],
      addPreviousOutputInEnv: false,
    },
    {
      parent,
      dependsOn: args.dependsOn,
      deletedWith: args.deletedWith,
      // A new trigger replaces the step; its delete must run before the new create, or
      // the replacement's files would be removed right after it wrote them.
      deleteBeforeReplace: true,
      customTimeouts: args.createTimeout ? { create: args.createTimeout } : undefined,
    },
  );
}
