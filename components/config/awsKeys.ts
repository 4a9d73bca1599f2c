// AWS mode: instance types, zones, the operator and web CIDRs, and the data disk with
// gp3's own limits (size, IOPS, throughput) checked together.
import { z } from "zod";
import { architectureOf, hasInstanceStore } from "../instanceTypes";
import type { AwsDiskSpec, AwsModeSpec } from "../spec";
import { OPERATOR_CIDRS_WHY, cidrList } from "./cidrs";
import { commonShape, toCommon } from "./commonKeys";
import { ALWAYS, anyOfKeys, cleanPaths, matching, say, section, unreachable, wholeNumber } from "./leaves";

export const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export const UNIX_USER_TEXT = 'must be a Unix user name: a lowercase letter or "_", then up to 31 lowercase letters, digits, "_" or "-"';

export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
export const INSTANCE_TYPE_TEXT = 'must be an EC2 instance type: family "." size, lowercase, e.g. "m6i.large"';

export const GP3_BASELINE_IOPS = 3000;
export const GP3_IOPS_PER_GIB = 500;
export const GP3_MIBPS_PER_IOPS = 0.25;
export const EBS_DEFAULTS = { sizeGiB: 100, iops: 3000, throughputMiBps: 125 } as const;
export const EBS_ONLY_KEYS = ["sizeGiB", "iops", "throughputMiBps"] as const;

export const diskShape = {
  kind: z.enum(["ebs", "instance-store"], say('must be "ebs" or "instance-store"')).default("ebs"),
  // No zod defaults here: with kind "instance-store" these keys must stay absent.
  sizeGiB: wholeNumber(1, 16384, "GiB").optional(),
  iops: wholeNumber(3000, 80000, "IOPS").optional(),
  throughputMiBps: wholeNumber(125, 2000, "MiB/s").optional(),
};
export type ParsedDisk = z.output<ReturnType<typeof section<typeof diskShape>>>;

export function gp3IopsLimit(sizeGiB: number): number {
  // 3000 IOPS is every gp3 volume's free baseline, even below 6 GiB.
  return Math.max(GP3_BASELINE_IOPS, GP3_IOPS_PER_GIB * sizeGiB);
}

export function diskRules(disk: ParsedDisk, ctx: z.core.$RefinementCtx<ParsedDisk>): void {
  const clean = cleanPaths(ctx);
  if (!clean("kind")) return;
  switch (disk.kind) {
    case "instance-store":
      for (const key of EBS_ONLY_KEYS) {
        if (disk[key] === undefined || !clean(key)) continue;
        ctx.addIssue({
          code: "custom",
          path: [key],
          input: disk[key],
          message:
            'applies only when disk.kind is "ebs" (an instance-store disk is the NVMe drive ' + "the instance type comes with); remove it",
        });
      }
      return;
    case "ebs": {
      const sizeGiB = disk.sizeGiB ?? EBS_DEFAULTS.sizeGiB;
      const iops = disk.iops ?? EBS_DEFAULTS.iops;
      const throughput = disk.throughputMiBps ?? EBS_DEFAULTS.throughputMiBps;
      const iopsLimit = gp3IopsLimit(sizeGiB);
      if (clean("sizeGiB") && clean("iops") && iops > iopsLimit) {
        ctx.addIssue({
          code: "custom",
          path: ["iops"],
          input: iops,
          message:
            `must be at most ${iopsLimit} for a ${sizeGiB} GiB gp3 volume (AWS allows 500 IOPS per GiB, ` +
            `and 3000 on any size): lower disk.iops to ${iopsLimit} or raise disk.sizeGiB to ` +
            `${Math.ceil(iops / GP3_IOPS_PER_GIB)}`,
        });
      }
      const throughputLimit = Math.floor(iops * GP3_MIBPS_PER_IOPS);
      if (clean("iops") && clean("throughputMiBps") && throughput > throughputLimit) {
        ctx.addIssue({
          code: "custom",
          path: ["throughputMiBps"],
          input: throughput,
          message:
            `must be at most ${throughputLimit} for ${iops} IOPS (gp3 allows 0.25 MiB/s per IOPS, ` +
            `i.e. disk.iops / 4): lower disk.throughputMiBps to ${throughputLimit} or raise disk.iops ` +
            `to ${Math.ceil(throughput / GP3_MIBPS_PER_IOPS)}`,
        });
      }
      return;
    }
    default:
      return unreachable(disk.kind);
  }
}

export function toDisk(disk: ParsedDisk): AwsDiskSpec {
  switch (disk.kind) {
    case "ebs":
      return {
        kind: "ebs",
        sizeGiB: disk.sizeGiB ?? EBS_DEFAULTS.sizeGiB,
        iops: disk.iops ?? EBS_DEFAULTS.iops,
        throughputMiBps: disk.throughputMiBps ?? EBS_DEFAULTS.throughputMiBps,
      };
    case "instance-store":
      return { kind: "instance-store" };
    default:
      return unreachable(disk.kind);
  }
}

// Issue 13: DLM snapshots of the exchange's data volume. `enabled` unset means "yes when
// there is an EBS volume": an instance-store exchange has none to snapshot.
export const DLM_INTERVALS = [1, 2, 3, 4, 6, 8, 12, 24];
export const dlmShape = {
  enabled: z.boolean(say("must be true or false")).optional(),
  intervalHours: z
    .number(say(`must be one of ${DLM_INTERVALS.join(", ")} (hours between snapshots)`))
    .refine((v) => DLM_INTERVALS.includes(v), say(`must be one of ${DLM_INTERVALS.join(", ")} (hours between snapshots)`))
    .default(24),
  time: matching(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a UTC time "HH:MM", e.g. "03:00"').default("03:00"),
  retainCount: wholeNumber(1, 1000, "snapshots").default(14),
};

export const awsShape = {
  nodeCount: wholeNumber(1, 50).default(3),
  instanceType: matching(INSTANCE_TYPE, INSTANCE_TYPE_TEXT).default("m6i.large"),
  exchangeInstanceType: matching(INSTANCE_TYPE, INSTANCE_TYPE_TEXT).default("t3.small"),
  availabilityZones: wholeNumber(1, 6).default(2),
  ami: matching(
    /^ami-[0-9a-f]{8,17}$/,
    'must be an AMI id such as "ami-0123456789abcdef0" (leave it unset to use the newest official Debian 12 image)',
  ).optional(),
  sshUser: matching(UNIX_USER, UNIX_USER_TEXT).default("admin"),
  operatorCidrs: cidrList(
    "operatorCidrs",
    false,
    `must be a non-empty list of IPv4 CIDRs: ${OPERATOR_CIDRS_WHY}`,
    `is required in AWS mode: ${OPERATOR_CIDRS_WHY}`,
  ),
  webCidrs: cidrList(
    "webCidrs",
    true,
    'must be a non-empty list of IPv4 CIDRs allowed to reach HTTP on the web nodes, e.g. ["0.0.0.0/0"] or ["10.0.0.0/8"]',
  ).default(() => ["0.0.0.0/0"]),
  disk: section(diskShape, `${anyOfKeys(diskShape)}, e.g. {"kind":"ebs","sizeGiB":100}`)
    .superRefine(diskRules, ALWAYS)
    .prefault({}),
  dlm: section(dlmShape, anyOfKeys(dlmShape)).prefault({}),
};

export const SSH_KEY_PLEASE = "set it with: pulumi config set --secret lsyncd-cluster:sshPrivateKey < ~/.ssh/id_ed25519";

export const awsModeShape = {
  ...commonShape,
  ...awsShape,
  sshPrivateKey: z
    .never(
      say(
        "is only used with hosts (existing-hosts mode); in AWS mode the program makes its own " +
          "operator key, so remove it: pulumi config rm lsyncd-cluster:sshPrivateKey",
      ),
    )
    .optional(),
};
export type ParsedAws = z.output<ReturnType<typeof z.strictObject<typeof awsModeShape>>>;

export function awsRules(v: ParsedAws, ctx: z.core.$RefinementCtx<ParsedAws>): void {
  const clean = cleanPaths(ctx);
  // The exchange gets the same disk as the nodes (awsCluster.ts), so both types need NVMe.
  for (const key of ["instanceType", "exchangeInstanceType"] as const) {
    if (clean(key) && clean("disk", "kind") && v.disk.kind === "instance-store" && !hasInstanceStore(v[key])) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        input: v[key],
        message: 'must have local NVMe instance storage when disk.kind is "instance-store" ' + "(e.g. m6id.large, c6gd.large, i4i.large)",
      });
    }
  }
  if (clean("dlm", "enabled") && clean("disk", "kind") && v.dlm.enabled === true && v.disk.kind === "instance-store") {
    ctx.addIssue({
      code: "custom",
      path: ["dlm", "enabled"],
      input: v.dlm.enabled,
      message: 'needs an EBS data disk (disk.kind "ebs"): an instance-store exchange has no volume to snapshot; set it to false',
    });
  }
  if (v.ami !== undefined && clean("ami") && clean("instanceType") && clean("exchangeInstanceType")) {
    const arch = architectureOf(v.instanceType);
    if (architectureOf(v.exchangeInstanceType) !== arch) {
      ctx.addIssue({
        code: "custom",
        path: ["exchangeInstanceType"],
        input: v.exchangeInstanceType,
        message:
          `must have the same CPU architecture as instanceType (${arch}) when ami is set, ` +
          `since that one image boots every host; pick an ${arch} type or remove ami`,
      });
    }
  }
}

export function toAwsSpec(v: ParsedAws): AwsModeSpec {
  return {
    mode: "aws",
    ...toCommon(v),
    nodeCount: v.nodeCount,
    instanceType: v.instanceType,
    exchangeInstanceType: v.exchangeInstanceType,
    availabilityZones: v.availabilityZones,
    ...(v.ami === undefined ? {} : { ami: v.ami }),
    sshUser: v.sshUser,
    operatorCidrs: [...v.operatorCidrs],
    webCidrs: [...v.webCidrs],
    disk: toDisk(v.disk),
    dlm: {
      enabled: v.dlm.enabled ?? v.disk.kind === "ebs",
      intervalHours: v.dlm.intervalHours,
      time: v.dlm.time,
      retainCount: v.dlm.retainCount,
    },
  };
}

export const awsConfigSchema = section(awsModeShape, "must be an object", undefined, [
  ...Object.keys(commonShape),
  ...Object.keys(awsShape),
  "hosts",
])
  .superRefine(awsRules, ALWAYS)
  .transform(toAwsSpec);
