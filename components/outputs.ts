// The stack outputs: the contract other teams read (README, "Outputs contract"). One
// definition as plain data: SyncCluster fills it, index.ts exports it as it is, and
// examples/consumer reads a StackReference against it. Adding an output is one field here
// and its value in syncCluster.ts (plus its README row).

export interface HostOutput {
  name: string;
  publicIp: string;
  privateIp: string;
}

export interface NodeOutput extends HostOutput {
  /** null for existing (non-AWS) hosts, which have no zone we know of. */
  availabilityZone: string | null;
  /** Where nginx serves the synced files; null when web is disabled. */
  url: string | null;
}

export interface ClusterOutputs {
  /** 8 hex digits naming the cluster's resources and tags. */
  clusterId: string;
  syncDir: string;
  exchange: HostOutput;
  nodes: NodeOutput[];
  /** AWS mode only: absent when the cluster runs on existing hosts. */
  securityGroupId?: string;
  /** host name -> the sync user's public key on that host. */
  syncPublicKeys: Record<string, string>;
  /** AWS mode only, secret: the operator key the program generated, for `ssh -i`. */
  operatorPrivateKey?: string;
}
