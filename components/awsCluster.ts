// The AWS part of the program: network, operator key and hosts (EC2 + fast disk). It hands
// SSH-reachable hosts to the host-agnostic part and knows nothing about lsyncd.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterHost, AwsHostInfo } from "./awsHost";
import { ClusterNetwork } from "./awsNetwork";
import { amiChooser } from "./debianAmi";
import { nodeName } from "./hostNames";
import { OperatorKey } from "./operatorKey";
import { AwsModeSpec } from "./spec";
import { CLUSTER_TAG } from "./awsTags";
import { ExchangeSnapshots } from "./awsSnapshots";

export type { AwsHostInfo } from "./awsHost";

export interface AwsClusterArgs {
  /** The validated AWS-mode config: host count and types, zones, disk, who may reach SSH and HTTP. */
  readonly spec: AwsModeSpec;
}

export { CLUSTER_TAG, ROLE_TAG } from "./awsTags";

/** "node01", "node02", ... ("node100" past 99: never re-padded, which would rename, and so replace, every node). */
export { nodeName };

export class AwsCluster extends pulumi.ComponentResource {
  /** 8 hex digits in every Name tag and name prefix (`lsc-<clusterId>-...`), so stacks can share an account. */
  public readonly clusterId: pulumi.Output<string>;
  /** The operator's OpenSSH private key for the remote steps; secret. */
  public readonly operatorPrivateKey: pulumi.Output<string>;
  /** The security group every host is in (SSH from operators and from each other). */
  public readonly securityGroupId: pulumi.Output<string>;
  public readonly exchange: AwsHostInfo;
  /** In name order: node01 first. */
  public readonly nodes: AwsHostInfo[];
  /** The DLM policy snapshotting the exchange's data volume; absent when dlm is off or the disk is instance-store. */
  public readonly snapshotPolicyId?: pulumi.Output<string>;

  constructor(name: string, args: AwsClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:aws:AwsCluster", name, {}, opts);
    const spec = args.spec;

    // Random rather than the stack name: two stacks of the same name in different
    // projects or orgs could otherwise share one account and collide.
    const clusterId = new random.RandomId(`${name}-id`, { byteLength: 4 }, { parent: this }).hex;
    const namePrefix = pulumi.interpolate`lsc-${clusterId}-`;
    const clusterTags = clusterId.apply((id): Record<string, string> => ({ [CLUSTER_TAG]: id }));
    const tags = (suffix: string) => clusterId.apply((id): Record<string, string> => ({ [CLUSTER_TAG]: id, Name: `lsc-${id}-${suffix}` }));

    const operatorKey = new OperatorKey(
      `${name}-operator`,
      { keyNamePrefix: pulumi.interpolate`${namePrefix}operator-`, tags: tags("operator") },
      { parent: this },
    );

    const network = new ClusterNetwork(
      `${name}-network`,
      {
        tags,
        namePrefix,
        availabilityZones: spec.availabilityZones,
        operatorCidrs: spec.operatorCidrs,
        web: spec.web.enabled ? { port: spec.web.port, cidrs: spec.webCidrs } : undefined,
      },
      { parent: this },
    );

    const amis = amiChooser(spec.ami, { parent: this });
    const subnets = network.subnets;
    const host = (hostName: string, role: "exchange" | "node", instanceType: string, subnetIndex: number) => {
      const subnet = subnets[subnetIndex % subnets.length];
      const securityGroupIds = [
        network.clusterSecurityGroupId,
        role === "exchange" ? network.exchangeSecurityGroupId : network.nodeSecurityGroupId,
      ];
      if (role === "node" && network.webSecurityGroupId !== undefined) {
        securityGroupIds.push(network.webSecurityGroupId);
      }
      return new ClusterHost(
        `${name}-${hostName}`,
        {
          hostName,
          role,
          clusterTags,
          namePrefix,
          instanceType,
          ami: amis.imageFor(instanceType),
          keepOriginalAmi: amis.isLookup,
          subnetId: subnet.id,
          availabilityZone: subnet.availabilityZone,
          securityGroupIds,
          keyName: operatorKey.keyName,
          disk: spec.disk,
          networkReady: network.internetReady,
        },
        { parent: this },
      );
    };

    const exchange = host("exchange", "exchange", spec.exchangeInstanceType, 0);
    // Round-robin, so losing one zone takes out at most ceil(n / zones) nodes.
    const nodes = Array.from({ length: spec.nodeCount }, (_, i) => host(nodeName(i), "node", spec.instanceType, i));

    // Issue 13: DLM snapshots of the exchange's data volume (the cluster's complete copy,
    // versions included), when it has one.
    this.snapshotPolicyId =
      spec.dlm.enabled && spec.disk.kind === "ebs"
        ? new ExchangeSnapshots(
            `${name}-exchange-snapshots`,
            {
              dlm: spec.dlm,
              volumeName: pulumi.interpolate`${namePrefix}exchange-data`,
              namePrefix: pulumi.interpolate`${namePrefix}dlm-`,
              tags: tags("dlm"),
            },
            { parent: this },
          ).policyId
        : undefined;

    this.clusterId = clusterId;
    this.operatorPrivateKey = operatorKey.privateKeyOpenssh;
    this.securityGroupId = network.clusterSecurityGroupId;
    this.exchange = exchange;
    this.nodes = nodes;

    this.registerOutputs({
      clusterId: this.clusterId,
      operatorPrivateKey: this.operatorPrivateKey,
      securityGroupId: this.securityGroupId,
      exchange: this.exchange,
      nodes: this.nodes,
    });
  }
}
