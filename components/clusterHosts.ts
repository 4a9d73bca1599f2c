// Where the mesh's hosts come from, per mode: new AWS instances (with their network and
// operator key) or existing servers from config. Each mode hands the mesh the same
// MeshHostArgs and fills the mode-specific part of the outputs contract.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { AwsCluster, AwsHostInfo } from "./awsCluster";
import { HostOutput, NodeOutput } from "./outputs";
import { AwsModeSpec, ExistingHostSpec, ExistingModeSpec, WebSpec } from "./spec";
import { MeshHostArgs } from "./syncMesh";

export interface ClusterHosts {
  readonly exchange: MeshHostArgs;
  readonly nodes: MeshHostArgs[];
  readonly clusterId: pulumi.Output<string>;
  readonly exchangeOutput: pulumi.Output<HostOutput>;
  readonly nodesOutput: pulumi.Output<NodeOutput[]>;
  /** AWS mode only. */
  readonly securityGroupId?: pulumi.Output<string>;
  /** AWS mode only; secret. */
  readonly operatorPrivateKey?: pulumi.Output<string>;
}

function nodeUrl(web: WebSpec, address: string): string | null {
  if (!web.enabled) return null;
  const host = address.includes(":") ? `[${address}]` : address;
  return `http://${host}${web.port === 80 ? "" : `:${web.port}`}/`;
}

/** New instances: the AWS part creates them; the mesh reaches them by their public IP. */
export function awsClusterHosts(name: string, spec: AwsModeSpec, parent: pulumi.Resource): ClusterHosts {
  const aws = new AwsCluster(name, { spec }, { parent });
  const key = aws.operatorPrivateKey;
  const hostOutput = (h: AwsHostInfo): pulumi.Output<HostOutput> =>
    pulumi.all([h.publicIp, h.privateIp]).apply(([publicIp, privateIp]) => ({ name: h.name, publicIp, privateIp }));
  const meshHost = (h: AwsHostInfo): MeshHostArgs => ({
    name: h.name,
    connection: { host: h.publicIp, port: 22, user: spec.sshUser, privateKey: key, hostKey: h.hostKey, serverId: h.instance.id },
    // Peers push over the VPC; the security group allows SSH between members only.
    syncAddress: h.privateIp,
    syncPort: 22,
    disk: h.disk.kind === "ebs" ? { kind: "ebs", volumeId: h.disk.volumeId } : { kind: "instance-store" },
    waitForBoot: true,
    dependsOn: h.disk.kind === "ebs" ? [h.instance, h.disk.attachment] : [h.instance],
    deletedWith: h.instance,
  });
  return {
    exchange: meshHost(aws.exchange),
    nodes: aws.nodes.map(meshHost),
    clusterId: aws.clusterId,
    exchangeOutput: hostOutput(aws.exchange),
    nodesOutput: pulumi.all(
      aws.nodes.map((n) =>
        pulumi
          .all([hostOutput(n), n.availabilityZone])
          .apply(([h, az]) => ({ ...h, availabilityZone: az, url: nodeUrl(spec.web, h.publicIp) })),
      ),
    ),
    securityGroupId: aws.securityGroupId,
    operatorPrivateKey: key,
  };
}

/** Servers that exist: reached with the operator's key, at the addresses in config. */
export function existingClusterHosts(spec: ExistingModeSpec, sshPrivateKey: pulumi.Input<string> | undefined): ClusterHosts {
  if (sshPrivateKey === undefined) throw new Error("existing-hosts mode needs sshPrivateKey");
  const key = pulumi.secret(sshPrivateKey);
  const meshHost = (h: ExistingHostSpec): MeshHostArgs => ({
    name: h.name,
    connection: { host: h.address, port: h.port, user: h.user, privateKey: key, hostKey: h.hostKey },
    syncAddress: h.address,
    syncPort: h.port,
    disk: h.disk ? { kind: "device", path: h.disk } : { kind: "none" },
    listenAddress: h.listenAddress,
  });
  const out = (h: ExistingHostSpec): HostOutput => ({ name: h.name, publicIp: h.address, privateIp: h.address });
  return {
    exchange: meshHost(spec.exchange),
    nodes: spec.nodes.map(meshHost),
    // Derived, not random: existing hosts need no provider but this program's own
    // (docs/architecture.md), and the id stays the same for the stack's lifetime.
    clusterId: pulumi.output(existingClusterId(pulumi.getProject(), pulumi.getStack())),
    exchangeOutput: pulumi.output(out(spec.exchange)),
    nodesOutput: pulumi.output(
      spec.nodes.map((n) => ({ ...out(n), availabilityZone: null, url: nodeUrl(spec.web, n.listenAddress ?? n.address) })),
    ),
  };
}

/** 8 hex digits, stable for a project and stack (AWS mode draws a random one instead). */
export function existingClusterId(project: string, stack: string): string {
  return createHash("sha256").update(`lsyncd-cluster/${project}/${stack}`, "utf8").digest("hex").slice(0, 8);
}
