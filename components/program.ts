// The program as a function of raw config, so tests can build it (twice, with different
// config) exactly as `pulumi up` does. Config is validated before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseClusterConfig } from "./config";
import { readRawStackConfig, readSshPrivateKey } from "./stackConfig";
import { HostOutput, NodeOutput, SyncCluster } from "./syncCluster";

/** The stack outputs: the contract other teams rely on (README, "Outputs"). */
export interface ClusterOutputs {
  clusterId: pulumi.Output<string>;
  syncDir: pulumi.Output<string>;
  exchange: pulumi.Output<HostOutput>;
  nodes: pulumi.Output<NodeOutput[]>;
  securityGroupId: pulumi.Output<string> | undefined;
  syncPublicKeys: pulumi.Output<Record<string, string>>;
  operatorPrivateKey: pulumi.Output<string> | undefined;
}

export function buildProgram(raw: Record<string, unknown>, sshPrivateKey?: pulumi.Input<string>): ClusterOutputs {
  let spec;
  try {
    spec = parseClusterConfig(raw);
  } catch (e) {
    // RunError: Pulumi prints the message alone, without a stack trace.
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
  const cluster = new SyncCluster("lsyncd", { spec, sshPrivateKey });
  return {
    clusterId: cluster.clusterId,
    syncDir: cluster.syncDir,
    exchange: cluster.exchange,
    nodes: cluster.nodes,
    securityGroupId: cluster.securityGroupId,
    syncPublicKeys: cluster.syncPublicKeys,
    operatorPrivateKey: cluster.operatorPrivateKey,
  };
}

/**
 * The stack's program: read its config, build the cluster, return the outputs. index.ts
 * exports these for `pulumi up`; tools/pulumi.ts runs the same function inline.
 */
export function stackProgram(): ClusterOutputs {
  return buildProgram(readRawStackConfig(), readSshPrivateKey());
}
