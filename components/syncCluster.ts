// The whole cluster: hosts (new AWS instances, or existing servers from config) plus the
// lsyncd mesh over them, and the outputs contract other teams read.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { AwsCluster, AwsHostInfo } from "./awsCluster";
import { MeshHostArgs, SyncMesh } from "./syncMesh";
import { AwsModeSpec, ClusterSpec, ExistingHostSpec, WebSpec } from "./spec";

export interface HostOutput {
  readonly name: string;
  readonly publicIp: string;
  readonly privateIp: string;
}

export interface NodeOutput extends HostOutput {
  /** null for existing hosts, which have no zone we know of. */
  readonly availabilityZone: string | null;
  /** Where nginx serves the synced files; null when web is disabled. */
  readonly url: string | null;
}

export interface SyncClusterArgs {
  /** Validated config. */
  readonly spec: ClusterSpec;
  /** Key that reaches existing hosts (existing-hosts mode only; secret). */
  readonly sshPrivateKey?: pulumi.Input<string>;
}

function nodeUrl(web: WebSpec, address: string): string | null {
  if (!web.enabled) return null;
  const host = address.includes(":") ? `[${address}]` : address;
  return `http://${host}${web.port === 80 ? "" : `:${web.port}`}/`;
}

export class SyncCluster extends pulumi.ComponentResource {
  public readonly clusterId: pulumi.Output<string>;
  public readonly syncDir: pulumi.Output<string>;
  public readonly exchange: pulumi.Output<HostOutput>;
  public readonly nodes: pulumi.Output<NodeOutput[]>;
  /** The cluster security group (AWS mode only). */
  public readonly securityGroupId?: pulumi.Output<string>;
  public readonly syncPublicKeys: pulumi.Output<Record<string, string>>;
  /** The operator key the program made (AWS mode only); secret. */
  public readonly operatorPrivateKey?: pulumi.Output<string>;
  public readonly mesh: SyncMesh;

  constructor(name: string, args: SyncClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:index:SyncCluster", name, {}, opts);
    const spec = args.spec;
    this.syncDir = pulumi.output(spec.syncDir);
    const common = {
      syncDir: spec.syncDir,
      lsyncd: spec.lsyncd,
      inotify: spec.inotify,
      web: spec.web,
      audit: spec.audit,
      versions: spec.versions,
      deleteFuse: spec.deleteFuse,
    };

    switch (spec.mode) {
      case "aws": {
        const aws = new AwsCluster(`${name}-aws`, { spec }, { parent: this });
        const key = aws.operatorPrivateKey;
        this.mesh = new SyncMesh(
          `${name}-mesh`,
          { ...common, exchange: awsMeshHost(spec, aws.exchange, key), nodes: aws.nodes.map((n) => awsMeshHost(spec, n, key)) },
          { parent: this },
        );
        this.clusterId = aws.clusterId;
        this.securityGroupId = aws.securityGroupId;
        this.operatorPrivateKey = key;
        this.exchange = hostOutput(aws.exchange);
        this.nodes = pulumi.all(
          aws.nodes.map((n) =>
            pulumi.all([hostOutput(n), n.availabilityZone]).apply(([h, az]) => ({
              ...h,
              availabilityZone: az,
              url: nodeUrl(spec.web, h.publicIp),
            })),
          ),
        );
        break;
      }
      case "existing": {
        if (args.sshPrivateKey === undefined) {
          throw new Error("existing-hosts mode needs sshPrivateKey");
        }
        const key = pulumi.secret(args.sshPrivateKey);
        // Derived, not random: existing hosts need no provider but this program's own
        // (docs/architecture.md), and the id stays the same for the stack's lifetime.
        this.clusterId = pulumi.output(existingClusterId(pulumi.getProject(), pulumi.getStack()));
        this.mesh = new SyncMesh(
          `${name}-mesh`,
          {
            ...common,
            exchange: existingMeshHost(spec.exchange, key),
            nodes: spec.nodes.map((n) => existingMeshHost(n, key)),
          },
          { parent: this },
        );
        const out = (h: ExistingHostSpec): HostOutput => ({ name: h.name, publicIp: h.address, privateIp: h.address });
        this.exchange = pulumi.output(out(spec.exchange));
        this.nodes = pulumi.output(
          spec.nodes.map((n) => ({
            ...out(n),
            availabilityZone: null,
            url: nodeUrl(spec.web, n.listenAddress ?? n.address),
          })),
        );
        break;
      }
      default: {
        const never: never = spec;
        throw new Error(`unknown mode ${JSON.stringify(never)}`);
      }
    }
    this.syncPublicKeys = this.mesh.syncPublicKeys;
    this.registerOutputs({
      clusterId: this.clusterId,
      syncDir: this.syncDir,
      exchange: this.exchange,
      nodes: this.nodes,
      securityGroupId: this.securityGroupId,
      syncPublicKeys: this.syncPublicKeys,
    });
  }
}

/** 8 hex digits, stable for a project and stack (AWS mode draws a random one instead). */
export function existingClusterId(project: string, stack: string): string {
  return createHash("sha256").update(`lsyncd-cluster/${project}/${stack}`, "utf8").digest("hex").slice(0, 8);
}

function hostOutput(h: AwsHostInfo): pulumi.Output<HostOutput> {
  return pulumi.all([h.publicIp, h.privateIp]).apply(([publicIp, privateIp]) => ({ name: h.name, publicIp, privateIp }));
}

function awsMeshHost(spec: AwsModeSpec, h: AwsHostInfo, privateKey: pulumi.Output<string>): MeshHostArgs {
  return {
    name: h.name,
    connection: { host: h.publicIp, port: 22, user: spec.sshUser, privateKey, hostKey: h.hostKey, serverId: h.instance.id },
    // Peers push over the VPC; the security group allows SSH between members only.
    syncAddress: h.privateIp,
    syncPort: 22,
    disk: h.disk.kind === "ebs" ? { kind: "ebs", volumeId: h.disk.volumeId } : { kind: "instance-store" },
    waitForBoot: true,
    dependsOn: h.disk.kind === "ebs" ? [h.instance, h.disk.attachment] : [h.instance],
    deletedWith: h.instance,
  };
}

function existingMeshHost(h: ExistingHostSpec, privateKey: pulumi.Output<string>): MeshHostArgs {
  return {
    name: h.name,
    connection: {
      host: h.address,
      port: h.port,
      user: h.user,
      privateKey,
      hostKey: h.hostKey,
    },
    syncAddress: h.address,
    syncPort: h.port,
    disk: h.disk ? { kind: "device", path: h.disk } : { kind: "none" },
    listenAddress: h.listenAddress,
  };
}
