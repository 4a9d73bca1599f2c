// One EC2 host of the cluster and its fast disk. What happens on the host afterwards
// (format, mount, lsyncd) is the host-agnostic part's job; this only makes it exist.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ROLE_TAG } from "./awsTags";
import { AwsDiskSpec } from "./spec";

/** What the rest of the program needs to know about one AWS host. */
export interface AwsHostInfo {
  /** "exchange" | "node01" ... */
  readonly name: string;
  /** For dependsOn / deletedWith. */
  readonly instance: aws.ec2.Instance;
  /** An Elastic IP: the address survives a stop/start, so steps and deletes reach the host. */
  readonly publicIp: pulumi.Output<string>;
  readonly privateIp: pulumi.Output<string>;
  readonly availabilityZone: pulumi.Output<string>;
  /** The host's SSH host key, made by the program and installed at first boot; pinned. */
  readonly hostKey: pulumi.Output<string>;
  /** What the disk step must format-if-empty and mount: the volume id (device found via /dev/disk/by-id/ on the host) or the instance store. */
  readonly disk: { kind: "ebs"; volumeId: pulumi.Output<string>; attachment: aws.ec2.VolumeAttachment } | { kind: "instance-store" };
}

export type HostRole = "exchange" | "node";

export interface ClusterHostArgs {
  /** Short host name ("exchange", "node01"): the Name tag suffix and the name in outputs. */
  readonly hostName: string;
  /** Tagged as `lsyncd-cluster:role` so the hosts can be told apart in the console. */
  readonly role: HostRole;
  /** Tags shared by everything in the cluster (cluster id); Name and role are added here. */
  readonly clusterTags: pulumi.Input<Record<string, string>>;
  /** `lsc-<clusterId>-`: start of every Name tag. */
  readonly namePrefix: pulumi.Input<string>;
  /** EC2 instance type; with an instance-store disk it must have local NVMe (validated earlier). */
  readonly instanceType: string;
  /** Image to boot. */
  readonly ami: pulumi.Input<string>;
  /**
   * Keep the image a running host was created from even when `ami` later changes. Set when
   * `ami` comes from a "most recent" lookup, so a new Debian release does not replace hosts.
   */
  readonly keepOriginalAmi: boolean;
  /** Public subnet to launch in. */
  readonly subnetId: pulumi.Input<string>;
  /** The subnet's availability zone; the data volume is created in the same one. */
  readonly availabilityZone: pulumi.Input<string>;
  /** Security groups of the host (the cluster group, plus the web group on web nodes). */
  readonly securityGroupIds: pulumi.Input<string>[];
  /** EC2 key pair installed for the operator's SSH user. */
  readonly keyName: pulumi.Input<string>;
  /** The fast disk the sync dir lives on. */
  readonly disk: AwsDiskSpec;
  /** What must exist before the host can reach the internet (route, associations, egress rule). */
  readonly networkReady: readonly pulumi.Resource[];
}

/** Where the data volume is attached; on Nitro hosts it shows up as NVMe and is found by volume id instead. */
export const DATA_DEVICE_NAME = "/dev/sdf";
const ROOT_VOLUME_GIB = 16;

export class ClusterHost extends pulumi.ComponentResource implements AwsHostInfo {
  public readonly name: string;
  public readonly instance: aws.ec2.Instance;
  public readonly publicIp: pulumi.Output<string>;
  public readonly privateIp: pulumi.Output<string>;
  public readonly availabilityZone: pulumi.Output<string>;
  public readonly hostKey: pulumi.Output<string>;
  public readonly disk: AwsHostInfo["disk"];

  constructor(name: string, args: ClusterHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:aws:ClusterHost", name, {}, opts);

    const tags = (suffix: string) =>
      pulumi.all([args.clusterTags, args.namePrefix]).apply(([common, prefix]) => ({
        ...common,
        [ROLE_TAG]: args.role,
        Name: `${prefix}${suffix}`,
      }));

    // The host key is the program's, so the very first SSH login is already verified: a
    // man in the middle never sees the root scripts or returns a "sync key" of its own.
    // cloud-init installs it before sshd starts (ssh_keys); the private half travels in
    // user data, which any local user of the host can read through the instance metadata
    // service, and so can whoever may read the instance's attributes in the account.
    const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this });
    const userData = pulumi.all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh]).apply(([priv, pub]) => hostKeyUserData(priv, pub));

    const instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: args.ami,
        instanceType: args.instanceType,
        subnetId: args.subnetId,
        availabilityZone: args.availabilityZone,
        vpcSecurityGroupIds: args.securityGroupIds,
        keyName: args.keyName,
        // IMDSv2 only, and one hop: a container on the host cannot read instance credentials.
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: {
          encrypted: true,
          volumeType: "gp3",
          volumeSize: ROOT_VOLUME_GIB,
          deleteOnTermination: true,
          // Not `volumeTags`: it would also claim the data volume's tags and the two fight.
          tags: tags(`${args.hostName}-root`),
        },
        userData,
        userDataReplaceOnChange: false,
        tags: tags(args.hostName),
      },
      {
        parent: this,
        dependsOn: [...args.networkReady],
        // A host stays in the zone (and subnet) it was made in when `availabilityZones`
        // changes later: only new nodes follow the new spread. Moving it would replace the
        // instance and its data volume.
        ignoreChanges: [...(args.keepOriginalAmi ? ["ami"] : []), "availabilityZone", "subnetId"],
        additionalSecretOutputs: ["userData"],
      },
    );
    const address = new aws.ec2.Eip(
      `${name}-address`,
      { domain: "vpc", instance: instance.id, tags: tags(`${args.hostName}-address`) },
      { parent: this, dependsOn: [...args.networkReady] },
    );

    let disk: AwsHostInfo["disk"];
    const diskSpec = args.disk;
    switch (diskSpec.kind) {
      case "ebs": {
        const volume = new aws.ebs.Volume(
          `${name}-data`,
          {
            // The subnet's zone, which is the instance's; taken from the subnet rather than
            // the instance so replacing the instance never looks like it moves the volume
            // (a zone change would replace the volume and its synced data).
            availabilityZone: args.availabilityZone,
            type: "gp3",
            encrypted: true,
            size: diskSpec.sizeGiB,
            iops: diskSpec.iops,
            throughput: diskSpec.throughputMiBps,
            tags: tags(`${args.hostName}-data`),
          },
          {
            parent: this,
            // The images outlive the program: `pulumi destroy` or a lower nodeCount leaves
            // the volume in the account, tagged (README, "Recovering from mistakes").
            retainOnDelete: true,
            ignoreChanges: ["availabilityZone"],
          },
        );
        const attachment = new aws.ec2.VolumeAttachment(
          `${name}-data-attachment`,
          {
            instanceId: instance.id,
            volumeId: volume.id,
            deviceName: DATA_DEVICE_NAME,
            // A clean unmount (the OS shuts down) before the volume goes away under it.
            stopInstanceBeforeDetaching: true,
          },
          {
            parent: this,
            // A volume attaches to one instance at a time: when the host is replaced the old
            // attachment must go before the new one can be made.
            deleteBeforeReplace: true,
          },
        );
        disk = { kind: "ebs", volumeId: volume.id, attachment };
        break;
      }
      case "instance-store":
        // The instance type brings local NVMe; nothing to create.
        disk = { kind: "instance-store" };
        break;
      default: {
        const unknown: never = diskSpec;
        throw new Error(`unknown disk kind ${JSON.stringify(unknown)}`);
      }
    }

    this.name = args.hostName;
    this.instance = instance;
    this.publicIp = address.publicIp;
    this.privateIp = instance.privateIp;
    this.availabilityZone = instance.availabilityZone;
    this.hostKey = hostKey.publicKeyOpenssh.apply((k) => k.trim().split(/\s+/).slice(0, 2).join(" "));
    this.disk = disk;

    this.registerOutputs({
      name: this.name,
      instance: this.instance,
      publicIp: this.publicIp,
      privateIp: this.privateIp,
      availabilityZone: this.availabilityZone,
      disk: this.disk,
    });
  }
}

/** cloud-init user data that installs the program's host key before sshd first starts. */
export function hostKeyUserData(privateKeyOpenssh: string, publicKeyOpenssh: string): string {
  // JSON is YAML: no value needs YAML quoting rules of its own.
  const config = {
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ed25519_private: privateKeyOpenssh, ed25519_public: publicKeyOpenssh.trim() },
  };
  return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}
