// The stack config contract as zod schemas, one per mode. Every leaf carries ONE text
// saying what it accepts, used for every way it can fail (wrong type, out of range, bad
// pattern): the user reads what to write, not which internal check tripped. config.ts
// turns each issue into `[key] <that text>; got <value>`.
//
// Cross-key rules (gp3 limits, unique host names, ...) run even when some other key is
// bad, so one throw lists every problem; they only read keys that parsed cleanly.
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { dirname } from "node:path";
import { nodeName } from "./hostNames";
import { ETC_DIR, HEALTH_CHECK, LSYNCD_CONF, LSYNCD_LOG_DIR, STATE_DIR, SYNC_HOME } from "./paths";
import { architectureOf, hasInstanceStore } from "./instanceTypes";
import type { AwsDiskSpec, AwsModeSpec, CommonSpec, ExistingHostSpec, ExistingModeSpec } from "./spec";

/** Params of a custom issue whose message already names the offending value. */
export const SHOWS_VALUE = { showsValue: true } as const;

// ---------------------------------------------------------------- building blocks

/** The same text for every failure of a leaf; `missing` replaces it when the key is absent. */
function say(accepted: string, missing?: string) {
  return {
    error: (issue: { readonly input?: unknown }): string => (issue.input === undefined && missing !== undefined ? missing : accepted),
  };
}

function wholeNumber(min: number, max: number, unit?: string) {
  const e = say(`must be a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}`);
  return z.number(e).int(e).min(min, e).max(max, e);
}

/** Seconds in steps of 0.1 (lsyncd's timers take fractions). */
function tenthsOfSeconds(min: number, max: number) {
  const e = say(`must be a number of seconds from ${min} to ${max}, in steps of 0.1`);
  return z
    .number(e)
    .min(min, e)
    .max(max, e)
    .refine((v) => Math.abs(v * 10 - Math.round(v * 10)) < 1e-9, e);
}

function matching(pattern: RegExp, accepted: string, missing?: string) {
  const e = say(accepted, missing);
  return z.string(e).regex(pattern, e);
}

/** A string leaf whose text depends on what is wrong, so it can name the fix (e.g. a CIDR's network). */
function checked(accepted: string, problemOf: (value: string) => string | undefined, missing?: string) {
  return z.string(say(accepted, missing)).superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: value });
  });
}

function unknownKeyText(knownKeys: readonly string[]): string {
  return `is not a known key; known keys here: ${knownKeys.join(", ")}`;
}

/** A strict object: an unknown key (a typo) is an error listing the keys allowed at that level. */
function section<S extends z.core.$ZodLooseShape>(
  shape: S,
  accepted: string,
  missing?: string,
  knownKeys: readonly string[] = Object.keys(shape),
) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? unknownKeyText(knownKeys)
        : issue.input === undefined && missing !== undefined
          ? missing
          : accepted,
  });
}

function anyOfKeys(shape: object): string {
  return `must be an object with any of the keys ${Object.keys(shape).join(", ")}`;
}

/** Cross-key rules run even after other problems; this makes zod call them regardless. */
const ALWAYS = { when: () => true };

type Path = readonly PropertyKey[];

function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Asks whether parsing found no problem at a path, inside it or around it (a parent of the
 * wrong type). An unknown key taints only itself, not its siblings. Snapshot taken before
 * a rule adds issues, so one rule's finding does not silence the next rule.
 */
function cleanPaths(ctx: { readonly issues: readonly z.core.$ZodRawIssue[] }): (...path: Path) => boolean {
  const spots = ctx.issues.flatMap((issue) => {
    const at = issue.path ?? [];
    return issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...at, k]) : [at];
  });
  return (...path) => spots.every((spot) => !overlaps(spot, path));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unreachable(value: never): never {
  throw new Error(`unhandled variant ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------- common keys

const SYNC_DIR_TEXT =
  'must be an absolute path such as "/srv/pics" (letters, digits, ".", "_", "-" and single "/" ' +
  'between names; no "." or ".." names, no trailing "/", not "/" itself)';

// A disk is mounted over the sync dir, the sync user owns it, and whoever holds any host's
// sync key writes into it (issue 11): over /home or /root it would hand out the login
// users' authorized_keys, over /usr/local/bin or /var/spool/cron programs that root runs,
// under /tmp a cleaner's deletes would propagate everywhere, and over this program's own
// dirs the sync user would own its own forced command. Whole trees are refused; a few
// directories only by themselves (/srv/pics, /var/www/images and /opt/images are fine).
const SYSTEM_TREES = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/lost+found",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/snap",
  "/sys",
  "/tmp",
  "/usr",
  "/var/backups",
  "/var/cache",
  "/var/lib",
  "/var/local",
  "/var/lock",
  "/var/log",
  "/var/mail",
  "/var/run",
  "/var/spool",
  "/var/tmp",
];
const SYSTEM_DIRS: ReadonlySet<string> = new Set(["/media", "/mnt", "/opt", "/srv", "/var", "/var/www"]);
/** This program's own dirs on every host (paths.ts): never inside, over or under the sync dir. */
const PROGRAM_DIRS = [STATE_DIR, SYNC_HOME, ETC_DIR, LSYNCD_LOG_DIR, dirname(LSYNCD_CONF), dirname(HEALTH_CHECK)];

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

function isTidyAbsolutePath(path: string, nameChars: RegExp): boolean {
  const names = path.split("/").slice(1);
  return path.startsWith("/") && names.length > 0 && names.every((name) => nameChars.test(name) && name !== "." && name !== "..");
}

const SYNC_DIR_NAME = /^[A-Za-z0-9._-]+$/;
const SYSTEM_DIR_TEXT =
  "must not be a system, home or lsyncd-cluster directory: the sync user owns it and every " +
  "host's sync key writes into it. Refused: /, /media, /mnt, /opt, /srv, /var, /var/www themselves, " +
  `anything in ${SYSTEM_TREES.join(", ")}, and ${PROGRAM_DIRS.join(", ")} with what is in or above them; ` +
  'use a directory of its own such as "/srv/pics" or "/var/www/images"';

function syncDirProblem(path: string): string | undefined {
  if (!isTidyAbsolutePath(path, SYNC_DIR_NAME)) {
    const tidy =
      "/" +
      path
        .split("/")
        .filter((name) => name !== "" && name !== ".")
        .join("/");
    const guess = isTidyAbsolutePath(tidy, SYNC_DIR_NAME) ? ` (did you mean ${JSON.stringify(tidy)}?)` : "";
    return SYNC_DIR_TEXT + guess;
  }
  if (
    SYSTEM_DIRS.has(path) ||
    SYSTEM_TREES.some((tree) => within(path, tree)) ||
    PROGRAM_DIRS.some((dir) => within(path, dir) || within(dir, path))
  ) {
    return SYSTEM_DIR_TEXT;
  }
  return undefined;
}

const lsyncdShape = {
  delay: wholeNumber(0, 60, "seconds").default(0),
  maxProcesses: wholeNumber(1, 64).default(1),
  excludes: z
    .array(
      matching(
        /^[^\r\n\0]{1,256}$/u,
        'must be a non-empty rsync exclude pattern of at most 256 characters, without line breaks or NUL, e.g. "*.tmp"',
      ),
      say('must be a list of rsync exclude patterns, e.g. ["*.tmp", ".cache/"]'),
    )
    .default(() => []),
  statusInterval: wholeNumber(1, 3600, "seconds").default(10),
  // 1 s: ten times the gap of a chunked upload writing one chunk per 100 ms.
  quietPeriod: tenthsOfSeconds(0, 60).default(1),
};

const auditShape = {
  intervalMinutes: wholeNumber(1, 1440, "minutes").default(10),
  graceSeconds: wholeNumber(0, 3600, "seconds").default(60),
};

// Issue 13: what pushes replace or delete is kept on the exchange, and one origin's mass
// delete is held there until the operator decides.
const versionsShape = {
  keepDays: wholeNumber(0, 3650, "days").default(14),
  warnDiskPercent: wholeNumber(1, 100, "percent").default(20),
};
const deleteFuseShape = {
  files: wholeNumber(0, 10000000, "files").default(200),
  seconds: wholeNumber(1, 86400, "seconds").default(60),
};

const INT32_MAX = 2147483647;
const inotifyShape = {
  maxUserWatches: wholeNumber(8192, INT32_MAX).default(16777216),
  maxQueuedEvents: wholeNumber(16384, INT32_MAX).default(65536),
  maxUserInstances: wholeNumber(128, INT32_MAX).default(1024),
};

const webShape = {
  enabled: z.boolean(say("must be true or false")).default(true),
  port: wholeNumber(1, 65535).default(80),
};

const commonShape = {
  syncDir: checked(SYNC_DIR_TEXT, syncDirProblem).default("/srv/pics"),
  lsyncd: section(lsyncdShape, anyOfKeys(lsyncdShape)).prefault({}),
  inotify: section(inotifyShape, anyOfKeys(inotifyShape)).prefault({}),
  web: section(webShape, anyOfKeys(webShape)).prefault({}),
  audit: section(auditShape, anyOfKeys(auditShape)).prefault({}),
  versions: section(versionsShape, anyOfKeys(versionsShape)).prefault({}),
  deleteFuse: section(deleteFuseShape, anyOfKeys(deleteFuseShape)).prefault({}),
};

interface ParsedCommon {
  readonly syncDir: string;
  readonly lsyncd: CommonSpec["lsyncd"];
  readonly inotify: CommonSpec["inotify"];
  readonly web: CommonSpec["web"];
  readonly audit: CommonSpec["audit"];
  readonly versions: CommonSpec["versions"];
  readonly deleteFuse: CommonSpec["deleteFuse"];
}

function toCommon(v: ParsedCommon): CommonSpec {
  return {
    syncDir: v.syncDir,
    lsyncd: { ...v.lsyncd, excludes: [...v.lsyncd.excludes] },
    inotify: { ...v.inotify },
    web: { ...v.web },
    audit: { ...v.audit },
    versions: { ...v.versions },
    deleteFuse: { ...v.deleteFuse },
  };
}

// ---------------------------------------------------------------- AWS mode

const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const UNIX_USER_TEXT = 'must be a Unix user name: a lowercase letter or "_", then up to 31 lowercase letters, digits, "_" or "-"';

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const INSTANCE_TYPE_TEXT = 'must be an EC2 instance type: family "." size, lowercase, e.g. "m6i.large"';

const CIDR_TEXT = 'must be an IPv4 CIDR: four numbers 0 to 255, "/" and a prefix length 0 to 32, e.g. "203.0.113.7/32"';
const OPERATOR_CIDRS_WHY =
  'the CIDRs allowed to SSH to the hosts, e.g. ["203.0.113.7/32"] ' + "(find your address with: curl -s https://checkip.amazonaws.com)";

function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function cidrProblem(text: string, allowWholeInternet: boolean): string | undefined {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  if (!match) {
    return isIPv4(text) ? `must be an IPv4 CIDR with a prefix length: use "${text}/32" for this one address` : CIDR_TEXT;
  }
  const address = match[1] ?? "";
  const prefixText = match[2] ?? "";
  const prefix = Number(prefixText);
  // net.isIPv4 rejects leading zeros, which some tools read as octal.
  if (!isIPv4(address) || prefix > 32 || (prefixText.length > 1 && prefixText.startsWith("0"))) {
    return CIDR_TEXT;
  }
  if (prefix === 0 && !allowWholeInternet) {
    return "must not open SSH to the whole internet (a /0 prefix); list the operators' own " + 'addresses instead, e.g. "203.0.113.7/32"';
  }
  const blockSize = 2 ** (32 - prefix);
  const network = numberToIpv4(Math.floor(ipv4ToNumber(address) / blockSize) * blockSize);
  if (network !== address) {
    return (
      `must have no address bits set after the /${prefix} prefix: use "${network}/${prefix}" ` +
      `for the network, or "${address}/32" for the one address`
    );
  }
  return undefined;
}

/** AWS refuses a security group rule that lists the same CIDR twice. */
function listedOnce(listKey: string) {
  return (values: readonly string[], ctx: z.core.$RefinementCtx<string[]>): void => {
    if (!Array.isArray(values)) return;
    const clean = cleanPaths(ctx);
    const firstAt = new Map<string, number>();
    values.forEach((value: string, index) => {
      if (!clean(index)) return;
      const seen = firstAt.get(value);
      if (seen === undefined) {
        firstAt.set(value, index);
        return;
      }
      ctx.addIssue({
        code: "custom",
        path: [index],
        input: value,
        message: `must be listed only once; ${JSON.stringify(value)} is already ${listKey}[${seen}]`,
        params: SHOWS_VALUE,
      });
    });
  };
}

/** Most addresses the operator CIDRs may cover together: one /8. */
const MAX_OPERATOR_ADDRESSES = 2 ** 24;

/** How many distinct addresses valid IPv4 CIDRs cover together (overlaps counted once). */
function addressesCovered(cidrs: readonly string[]): number {
  const ranges = cidrs
    .map((cidr) => {
      const [address = "", prefix = ""] = cidr.split("/");
      const start = ipv4ToNumber(address);
      return [start, start + 2 ** (32 - Number(prefix))] as const;
    })
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -1;
  for (const [from, to] of ranges) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/**
 * SSH open to "almost everyone" is as bad as to everyone: 0.0.0.0/1 + 128.0.0.0/1 passes a
 * per-entry /0 check. The union is measured once every entry is a valid CIDR.
 */
function coversLittle() {
  return (values: readonly string[], ctx: z.core.$RefinementCtx<string[]>): void => {
    if (!Array.isArray(values) || values.some((v) => typeof v !== "string" || cidrProblem(v, false) !== undefined)) return;
    const covered = addressesCovered(values);
    if (covered <= MAX_OPERATOR_ADDRESSES) return;
    ctx.addIssue({
      code: "custom",
      input: values,
      message:
        `must together cover at most ${MAX_OPERATOR_ADDRESSES.toLocaleString("en-US")} addresses (one /8), ` +
        `but these cover ${covered.toLocaleString("en-US")}: SSH to every host would be open to much of the ` +
        `internet; list the operators' own addresses instead, e.g. ["203.0.113.7/32"]`,
    });
  };
}

function cidrList(listKey: string, allowWholeInternet: boolean, accepted: string, missing?: string) {
  const e = say(accepted, missing);
  const list = z
    .array(
      checked(CIDR_TEXT, (cidr) => cidrProblem(cidr, allowWholeInternet)),
      e,
    )
    .min(1, e)
    .superRefine(listedOnce(listKey), ALWAYS);
  return allowWholeInternet ? list : list.superRefine(coversLittle(), ALWAYS);
}

const GP3_BASELINE_IOPS = 3000;
const GP3_IOPS_PER_GIB = 500;
const GP3_MIBPS_PER_IOPS = 0.25;
const EBS_DEFAULTS = { sizeGiB: 100, iops: 3000, throughputMiBps: 125 } as const;
const EBS_ONLY_KEYS = ["sizeGiB", "iops", "throughputMiBps"] as const;

const diskShape = {
  kind: z.enum(["ebs", "instance-store"], say('must be "ebs" or "instance-store"')).default("ebs"),
  // No zod defaults here: with kind "instance-store" these keys must stay absent.
  sizeGiB: wholeNumber(1, 16384, "GiB").optional(),
  iops: wholeNumber(3000, 80000, "IOPS").optional(),
  throughputMiBps: wholeNumber(125, 2000, "MiB/s").optional(),
};
type ParsedDisk = z.output<ReturnType<typeof section<typeof diskShape>>>;

function gp3IopsLimit(sizeGiB: number): number {
  // 3000 IOPS is every gp3 volume's free baseline, even below 6 GiB.
  return Math.max(GP3_BASELINE_IOPS, GP3_IOPS_PER_GIB * sizeGiB);
}

function diskRules(disk: ParsedDisk, ctx: z.core.$RefinementCtx<ParsedDisk>): void {
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

function toDisk(disk: ParsedDisk): AwsDiskSpec {
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
const DLM_INTERVALS = [1, 2, 3, 4, 6, 8, 12, 24];
const dlmShape = {
  enabled: z.boolean(say("must be true or false")).optional(),
  intervalHours: z
    .number(say(`must be one of ${DLM_INTERVALS.join(", ")} (hours between snapshots)`))
    .refine((v) => DLM_INTERVALS.includes(v), say(`must be one of ${DLM_INTERVALS.join(", ")} (hours between snapshots)`))
    .default(24),
  time: matching(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a UTC time "HH:MM", e.g. "03:00"').default("03:00"),
  retainCount: wholeNumber(1, 1000, "snapshots").default(14),
};

const awsShape = {
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

const SSH_KEY_PLEASE = "set it with: pulumi config set --secret lsyncd-cluster:sshPrivateKey < ~/.ssh/id_ed25519";

const awsModeShape = {
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
type ParsedAws = z.output<ReturnType<typeof z.strictObject<typeof awsModeShape>>>;

function awsRules(v: ParsedAws, ctx: z.core.$RefinementCtx<ParsedAws>): void {
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

function toAwsSpec(v: ParsedAws): AwsModeSpec {
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

// ---------------------------------------------------------------- existing-hosts mode

const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) [A-Za-z0-9+/=]+( .*)?$/;
const DEVICE_NAME = /^[A-Za-z0-9._:+@\\-]+$/;

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function isDnsName(value: string): boolean {
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  const labels = name.split(".");
  // An all-digit last label is a mistyped IPv4 address ("10.0.0.256"), not a name.
  return (
    name.length > 0 &&
    name.length <= 253 &&
    labels.every((label) => DNS_LABEL.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1] ?? "")
  );
}

/** A zone index ("%eth0") names an interface of one host, meaningless to the others. */
function isIpLiteral(value: string): boolean {
  return isIPv4(value) || (isIPv6(value) && !value.includes("%"));
}

const DEVICE_TEXT = 'must be a block device path under /dev/, e.g. "/dev/nvme1n1", "/dev/loop3" or "/dev/disk/by-id/nvme-..."';
const LISTEN_TEXT = 'must be an IPv4 or IPv6 address (no brackets) of this host for nginx to listen on, e.g. "10.0.0.11"';
const ADDRESS_TEXT = 'must be an IPv4 address, an IPv6 address (no brackets) or a DNS name, e.g. "10.0.0.11" or "node1.example.com"';

function hostShape() {
  return {
    name: matching(HOST_NAME, 'must be 1 to 31 lowercase letters, digits or "-", not starting with "-", e.g. "node01"').optional(),
    address: checked(
      ADDRESS_TEXT,
      (address) => (isIpLiteral(address) || isDnsName(address) ? undefined : ADDRESS_TEXT),
      "is required: the IPv4 address, IPv6 address or DNS name the operator and the other hosts " + 'reach this host at, e.g. "10.0.0.11"',
    ),
    port: wholeNumber(1, 65535).default(22),
    user: matching(UNIX_USER, UNIX_USER_TEXT).default("root"),
    disk: checked(DEVICE_TEXT, (device) =>
      device.startsWith("/dev/") && isTidyAbsolutePath(device, DEVICE_NAME) ? undefined : DEVICE_TEXT,
    ).optional(),
    hostKey: matching(
      HOST_KEY,
      'must be the host\'s SSH public key on one line, "<type> <base64> [comment]" with type ssh-ed25519, ' +
        "ecdsa-sha2-nistp256/384/521 or ssh-rsa (see /etc/ssh/ssh_host_ed25519_key.pub on the host)",
    ).optional(),
    listenAddress: checked(LISTEN_TEXT, (address) => (isIpLiteral(address) ? undefined : LISTEN_TEXT)).optional(),
  };
}

const EXAMPLE_KEY = "ssh-ed25519 AAAA...";

/** A host object as the README writes it, for messages. */
function hostExample(address: string, name?: string): string {
  return JSON.stringify({ ...(name === undefined ? {} : { name }), address, hostKey: EXAMPLE_KEY });
}

function hostSchema(role: "exchange" | "node", missing?: string) {
  const shape = hostShape();
  // A node's name is required (hostsRules says so with a reason); the exchange's defaults.
  const required = role === "node" ? ["name", "address", "hostKey"] : ["address", "hostKey"];
  const optionalKeys = Object.keys(shape).filter((key) => !required.includes(key));
  const example = role === "node" ? hostExample("10.0.0.11", "web1") : hostExample("10.0.0.10");
  return section(
    shape,
    `must be a host object with ${required.map((k) => `"${k}"`).join(", ")} and optionally ${optionalKeys.join(", ")}, e.g. ${example}`,
    missing,
  );
}
type ParsedHost = z.output<ReturnType<typeof hostSchema>>;

const NODES_EXAMPLE = `[${hostExample("10.0.0.11", "web1")},${hostExample("10.0.0.12", "web2")}]`;
const nodesText = say(
  `must be a list of 1 to 50 hosts (the web nodes), e.g. ${NODES_EXAMPLE}`,
  `is required: the web nodes, a list of 1 to 50 hosts, e.g. ${NODES_EXAMPLE}`,
);

const hostsShape = {
  exchange: hostSchema("exchange", `is required: the exchange (hub) host, e.g. ${hostExample("10.0.0.10")}`),
  nodes: z.array(hostSchema("node"), nodesText).min(1, nodesText).max(50, nodesText),
};

const NAME_REQUIRED =
  'is required: a name for this node, 1 to 31 lowercase letters, digits or "-", e.g. "web1". The name ' +
  "is the node's identity in the stack: with it, removing or reordering nodes never moves one node's " +
  "steps onto another's server";
const HOST_KEY_REQUIRED =
  "is required: the host's SSH public key, e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub " +
  "on the host (ssh-keyscan shows it, but check it out of band). The program never connects to a host " +
  "whose key it has not pinned: a man in the middle would get its root scripts";
type ParsedHosts = z.output<ReturnType<typeof section<typeof hostsShape>>>;

interface HostSlot {
  /** Path below `hosts`, as zod reports it. */
  readonly at: readonly (string | number)[];
  readonly host: ParsedHost;
  readonly defaultName: string;
}

function label(at: readonly (string | number)[]): string {
  return at.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : `${out}.${key}`), "hosts");
}

function hostsRules(hosts: ParsedHosts, ctx: z.core.$RefinementCtx<ParsedHosts>): void {
  if (!isRecord(hosts)) return;
  const clean = cleanPaths(ctx);
  const slots: HostSlot[] = [{ at: ["exchange"], host: hosts.exchange, defaultName: "exchange" }];
  if (Array.isArray(hosts.nodes)) {
    hosts.nodes.forEach((host, index) => slots.push({ at: ["nodes", index], host, defaultName: nodeName(index) }));
  }

  for (const slot of slots) {
    if (!isRecord(slot.host)) continue;
    if (slot.at[0] === "nodes" && slot.host.name === undefined && clean(...slot.at, "name")) {
      ctx.addIssue({ code: "custom", path: [...slot.at, "name"], input: undefined, message: NAME_REQUIRED, params: SHOWS_VALUE });
    }
    if (slot.host.hostKey === undefined && clean(...slot.at, "hostKey")) {
      ctx.addIssue({ code: "custom", path: [...slot.at, "hostKey"], input: undefined, message: HOST_KEY_REQUIRED, params: SHOWS_VALUE });
    }
  }

  const nameOwner = new Map<string, HostSlot>();
  for (const slot of slots) {
    if (!clean(...slot.at, "name")) continue;
    const name = slot.host.name ?? slot.defaultName;
    const owner = nameOwner.get(name);
    if (owner === undefined) {
      nameOwner.set(name, slot);
      continue;
    }
    ctx.addIssue({
      code: "custom",
      path: [...slot.at, "name"],
      input: name,
      message: `must be unique; ${JSON.stringify(name)} is already used by ${label(owner.at)}`,
      params: SHOWS_VALUE,
    });
  }

  const endpointOwner = new Map<string, HostSlot>();
  for (const slot of slots) {
    if (!clean(...slot.at, "address") || !clean(...slot.at, "port")) continue;
    // DNS names are case-insensitive; two spellings of one name are one host.
    const endpoint = `${slot.host.address.toLowerCase()} port ${slot.host.port}`;
    const owner = endpointOwner.get(endpoint);
    if (owner === undefined) {
      endpointOwner.set(endpoint, slot);
      continue;
    }
    ctx.addIssue({
      code: "custom",
      path: [...slot.at, "address"],
      input: slot.host.address,
      message:
        `must be unique together with port; ${JSON.stringify(slot.host.address)} port ${slot.host.port} ` +
        `is already used by ${label(owner.at)}`,
      params: SHOWS_VALUE,
    });
  }
}

function toHost(host: ParsedHost, defaultName: string): ExistingHostSpec {
  return {
    name: host.name ?? defaultName,
    address: host.address,
    port: host.port,
    user: host.user,
    ...(host.disk === undefined ? {} : { disk: host.disk }),
    // hostsRules has refused a host without one.
    hostKey: host.hostKey ?? "",
    ...(host.listenAddress === undefined ? {} : { listenAddress: host.listenAddress }),
  };
}

const hostsSchema = section(
  hostsShape,
  `must be an object with "exchange" and "nodes", e.g. {"exchange":${hostExample("10.0.0.10")},"nodes":${NODES_EXAMPLE}}`,
)
  .superRefine(hostsRules, ALWAYS)
  .transform((hosts) => ({
    exchange: toHost(hosts.exchange, "exchange"),
    nodes: hosts.nodes.map((host, index) => toHost(host, nodeName(index))),
  }));

const PRIVATE_KEY_TEXT =
  'must be an SSH private key in OpenSSH or PEM form ("-----BEGIN ... PRIVATE KEY-----" through ' +
  `"-----END ... PRIVATE KEY-----"); ${SSH_KEY_PLEASE}`;
const PRIVATE_KEY = /^-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----\r?\n([\s\S]+?)\r?\n-----END \1PRIVATE KEY-----$/;
const OPENSSH_MAGIC = "openssh-key-v1\0";

/** The cipher of an "OPENSSH PRIVATE KEY" body ("none" when it has no passphrase). */
function openSshCipher(base64: string): string | undefined {
  const blob = Buffer.from(base64.replace(/\s+/g, ""), "base64");
  const lengthAt = OPENSSH_MAGIC.length;
  if (blob.length < lengthAt + 4 || blob.subarray(0, lengthAt).toString("latin1") !== OPENSSH_MAGIC) {
    return undefined;
  }
  const length = blob.readUInt32BE(lengthAt);
  return blob.subarray(lengthAt + 4, lengthAt + 4 + length).toString("latin1");
}

function privateKeyProblem(text: string): string | undefined {
  const match = PRIVATE_KEY.exec(text.trim());
  if (!match) return PRIVATE_KEY_TEXT;
  const kind = match[1] ?? "";
  const body = match[2] ?? "";
  const cipher = kind === "OPENSSH " ? openSshCipher(body) : "none";
  if (cipher === undefined) return PRIVATE_KEY_TEXT;
  // Nothing can type a passphrase during `pulumi up`; the connection would fail on every host.
  if (cipher !== "none" || kind.includes("ENCRYPTED") || /^Proc-Type: *4,ENCRYPTED/m.test(body)) {
    return (
      "must be a private key without a passphrase (nothing can type one during pulumi up); " +
      'make a dedicated key with: ssh-keygen -t ed25519 -N "" -f ~/.ssh/lsyncd-cluster, then ' +
      "pulumi config set --secret lsyncd-cluster:sshPrivateKey < ~/.ssh/lsyncd-cluster"
    );
  }
  return undefined;
}

/** Keys of AWS mode, each refused with the reason when hosts is set. */
function awsOnly<K extends keyof typeof awsShape>(keys: readonly K[]): Record<K, z.ZodOptional<z.ZodNever>> {
  const hint: Partial<Record<keyof typeof awsShape, string>> = {
    nodeCount: " (with hosts, the nodes are the entries of hosts.nodes)",
    sshUser: " (with hosts, set each host's user, e.g. hosts.nodes[0].user)",
    disk: ' (with hosts, set each host\'s disk, e.g. hosts.nodes[0].disk = "/dev/nvme1n1")',
  };
  const shape = {} as Record<K, z.ZodOptional<z.ZodNever>>;
  for (const key of keys) {
    shape[key] = z.never(say(`applies only in AWS mode, but hosts is set: remove it${hint[key] ?? ""}`)).optional();
  }
  return shape;
}

const existingModeShape = {
  ...commonShape,
  hosts: hostsSchema,
  sshPrivateKey: checked(
    PRIVATE_KEY_TEXT,
    privateKeyProblem,
    `is required with hosts: the private key of the operator's SSH logins to every host; ${SSH_KEY_PLEASE}`,
  ),
  ...awsOnly(Object.keys(awsShape) as (keyof typeof awsShape)[]),
};

export const existingConfigSchema = section(existingModeShape, "must be an object", undefined, [
  ...Object.keys(commonShape),
  "hosts",
  "sshPrivateKey",
]).transform((v): ExistingModeSpec => ({
  mode: "existing",
  ...toCommon(v),
  exchange: v.hosts.exchange,
  nodes: v.hosts.nodes,
}));

// ---------------------------------------------------------------- raw config reading

function isStringSchema(schema: z.ZodType): boolean {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  return inner instanceof z.ZodString;
}

/**
 * Top-level keys whose value is a plain string. Stack config hands every value over as
 * text; these must not be JSON-decoded, or an ami "123" would turn into a number.
 */
export const STRING_KEYS: ReadonlySet<string> = new Set(
  [awsModeShape, existingModeShape].flatMap((shape) =>
    Object.entries(shape as Record<string, z.ZodType>)
      .filter(([, schema]) => isStringSchema(schema))
      .map(([key]) => key),
  ),
);
