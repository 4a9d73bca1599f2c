// The whole cluster: its hosts (clusterHosts.ts: new AWS instances or existing servers)
// plus the lsyncd mesh over them, and the outputs contract other teams read (outputs.ts).
import * as pulumi from "@pulumi/pulumi";
import { awsClusterHosts, ClusterHosts, existingClusterHosts } from "./clusterHosts";
import { ClusterOutputs } from "./outputs";
import { ClusterSpec } from "./spec";
import { SyncMesh } from "./syncMesh";

export interface SyncClusterArgs {
  /** Validated config. */
  readonly spec: ClusterSpec;
  /** Key that reaches existing hosts (existing-hosts mode only; secret). */
  readonly sshPrivateKey?: pulumi.Input<string>;
}

/** Fields of T that may be absent (`securityGroupId` in existing-hosts mode). */
type OptionalKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? K : never }[keyof T];

/** The outputs contract as the engine holds it: each value an Output; the optional ones may be absent. */
export type StackOutputs = { [K in Exclude<keyof ClusterOutputs, OptionalKeys<ClusterOutputs>>]: pulumi.Output<ClusterOutputs[K]> } & {
  [K in OptionalKeys<ClusterOutputs>]: pulumi.Output<NonNullable<ClusterOutputs[K]>> | undefined;
};

export class SyncCluster extends pulumi.ComponentResource {
  public readonly mesh: SyncMesh;
  public readonly outputs: StackOutputs;

  constructor(name: string, args: SyncClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:index:SyncCluster", name, {}, opts);
    const spec = args.spec;
    let hosts: ClusterHosts;
    switch (spec.mode) {
      case "aws":
        hosts = awsClusterHosts(`${name}-aws`, spec, this);
        break;
      case "existing":
        hosts = existingClusterHosts(spec, args.sshPrivateKey);
        break;
      default: {
        const never: never = spec;
        throw new Error(`unknown mode ${JSON.stringify(never)}`);
      }
    }
    const { syncDir, lsyncd, inotify, web, audit, versions, deleteFuse } = spec;
    this.mesh = new SyncMesh(
      `${name}-mesh`,
      { syncDir, lsyncd, inotify, web, audit, versions, deleteFuse, exchange: hosts.exchange, nodes: hosts.nodes },
      { parent: this },
    );
    this.outputs = {
      clusterId: hosts.clusterId,
      syncDir: pulumi.output(spec.syncDir),
      exchange: hosts.exchangeOutput,
      nodes: hosts.nodesOutput,
      securityGroupId: hosts.securityGroupId,
      syncPublicKeys: this.mesh.syncPublicKeys,
      operatorPrivateKey: hosts.operatorPrivateKey,
    };
    // Everything but the secret key, as before.
    this.registerOutputs({ ...this.outputs, operatorPrivateKey: undefined });
  }
}
