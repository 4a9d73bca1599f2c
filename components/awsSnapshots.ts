// Issue 13, AWS mode: the exchange's data volume (the cluster's complete copy, versions
// included) is snapshotted by Data Lifecycle Manager on a schedule, with a retention, so
// even a loss the versions cannot undo (the exchange's disk itself, a mistake older than
// versions.keepDays) has a way back. DLM runs inside AWS: nothing on the hosts, no
// credentials on them. Only an EBS volume can be snapshotted; an instance-store exchange
// gets none (config.ts refuses dlm.enabled = true with it).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DlmSpec } from "./spec";

/** AWS's own managed policy for DLM's EBS snapshot role (commercial partition). */
export const DLM_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole";

export interface ExchangeSnapshotsArgs {
  readonly dlm: DlmSpec;
  /** The exchange data volume's Name tag: the one volume the policy targets. */
  readonly volumeName: pulumi.Input<string>;
  readonly namePrefix: pulumi.Input<string>;
  readonly tags: pulumi.Input<Record<string, string>>;
}

export class ExchangeSnapshots extends pulumi.ComponentResource {
  public readonly policyId: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: ExchangeSnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:aws:ExchangeSnapshots", name, {}, opts);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        namePrefix: args.namePrefix,
        description: "Data Lifecycle Manager: snapshots of the lsyncd-cluster exchange's data volume",
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.iam.RolePolicyAttachment(`${name}-role-policy`, { role: role.name, policyArn: DLM_MANAGED_POLICY }, { parent: this });
    const policy = new aws.dlm.LifecyclePolicy(
      `${name}-policy`,
      {
        description: "lsyncd-cluster: snapshots of the exchange's data volume",
        executionRoleArn: role.arn,
        state: "ENABLED",
        policyDetails: {
          resourceTypes: ["VOLUME"],
          targetTags: pulumi.output(args.volumeName).apply((n) => ({ Name: n })),
          schedules: [
            {
              name: `every ${args.dlm.intervalHours} h from ${args.dlm.time} UTC, ${args.dlm.retainCount} kept`,
              createRule: { interval: args.dlm.intervalHours, intervalUnit: "HOURS", times: args.dlm.time },
              retainRule: { count: args.dlm.retainCount },
              // The volume's own tags (cluster id, role) on each snapshot, so they are found like it.
              copyTags: true,
              tagsToAdd: { "lsyncd-cluster:snapshot": "dlm" },
            },
          ],
        },
        tags: args.tags,
      },
      { parent: this },
    );
    this.policyId = policy.id;
    this.roleArn = role.arn;
    this.registerOutputs({ policyId: this.policyId, roleArn: this.roleArn });
  }
}
