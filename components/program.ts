// The program as a function of raw config, so tests can build it (twice, with different
// config) exactly as `pulumi up` does. Config is validated before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseClusterConfig } from "./config";
import { readRawStackConfig, readSshPrivateKey } from "./stackConfig";
import { StackOutputs, SyncCluster } from "./syncCluster";

export function buildProgram(raw: Record<string, unknown>, sshPrivateKey?: pulumi.Input<string>): StackOutputs {
  let spec;
  try {
    spec = parseClusterConfig(raw);
  } catch (e) {
    // RunError: Pulumi prints the message alone, without a stack trace.
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
  return new SyncCluster("lsyncd", { spec, sshPrivateKey }).outputs;
}

/**
 * The stack's program: read its config, build the cluster, return the outputs. index.ts
 * exports these for `pulumi up`; tools/pulumi.ts runs the same function inline.
 */
export function stackProgram(): StackOutputs {
  return buildProgram(readRawStackConfig(), readSshPrivateKey());
}
