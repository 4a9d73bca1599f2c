// The config layer as a user meets it: every bad value comes back as one exact line that
// names the key, says what is accepted and shows what was given; good configs come back
// with every default filled in. Lines are asserted in full: a vague or wrong message is
// a bug a user sees.
import { generateKeyPairSync } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseClusterConfig } from "../../components/config";
import { STRING_KEYS } from "../../components/configSchema";
import { readRawStackConfig, readSshPrivateKey } from "../../components/stackConfig";

type Raw = Record<string, unknown>;

function problemsOf(raw: Raw): string[] {
  try {
    parseClusterConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("the config was accepted");
}

function errorOf(raw: Raw): ConfigError {
  try {
    parseClusterConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("the config was accepted");
}

const PEM_KEY = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

/** An OpenSSH-format private key body with the given cipher ("none" = no passphrase). */
function openSshKey(cipher: string): string {
  const field = (text: string) => {
    const bytes = Buffer.from(text, "latin1");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const blob = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    field(cipher),
    field(cipher === "none" ? "none" : "bcrypt"),
    field(""),
    Buffer.alloc(64, 0x5a),
  ]);
  const lines = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

const OPENSSH_KEY = openSshKey("none");
const ENCRYPTED_KEY = openSshKey("aes256-ctr");

const aws = (extra: Raw = {}): Raw => ({ operatorCidrs: ["203.0.113.7/32"], ...extra });

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExchange";
const HOSTS = {
  exchange: { address: "10.0.0.10", hostKey: KEY_A },
  nodes: [
    { name: "node01", address: "10.0.0.11", hostKey: KEY_A },
    { name: "node02", address: "10.0.0.12", hostKey: KEY_A },
  ],
};
const existing = (extra: Raw = {}): Raw => ({ hosts: HOSTS, sshPrivateKey: PEM_KEY, ...extra });
/** A host object as the cases write it, plus a name and a pinned key unless the case sets them. */
const pinned = (host: unknown, name?: string): unknown =>
  host !== null && typeof host === "object" && !Array.isArray(host)
    ? { ...(name === undefined || "name" in host ? {} : { name }), ...("hostKey" in host ? {} : { hostKey: KEY_A }), ...host }
    : host;
const withNodes = (...nodes: unknown[]): Raw =>
  existing({ hosts: { exchange: HOSTS.exchange, nodes: nodes.map((n, i) => pinned(n, `node${String(i + 1).padStart(2, "0")}`)) } });
const withExchange = (exchange: unknown): Raw => existing({ hosts: { exchange: pinned(exchange), nodes: HOSTS.nodes } });
const NAME_REQUIRED =
  'is required: a name for this node, 1 to 31 lowercase letters, digits or "-", e.g. "web1". The name ' +
  "is the node's identity in the stack: with it, removing or reordering nodes never moves one node's " +
  "steps onto another's server";
const HOST_KEY_REQUIRED =
  "is required: the host's SSH public key, e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub " +
  "on the host (ssh-keyscan shows it, but check it out of band). The program never connects to a host " +
  "whose key it has not pinned: a man in the middle would get its root scripts";

const SYNC_DIR =
  'must be an absolute path such as "/srv/pics" (letters, digits, ".", "_", "-" and single "/" ' +
  'between names; no "." or ".." names, no trailing "/", not "/" itself)';
const SYSTEM_DIR =
  "must not be a system, home or lsyncd-cluster directory: the sync user owns it and every " +
  "host's sync key writes into it. Refused: /, /media, /mnt, /opt, /srv, /var, /var/www themselves, " +
  "anything in /bin, /boot, /dev, /etc, /home, /lib, /lib32, /lib64, /libx32, /lost+found, /proc, /root, " +
  "/run, /sbin, /snap, /sys, /tmp, /usr, /var/backups, /var/cache, /var/lib, /var/local, /var/lock, " +
  "/var/log, /var/mail, /var/run, /var/spool, /var/tmp, and /var/lib/lsyncd-cluster, " +
  "/var/lib/lsyncd-cluster/sync-home, /etc/lsyncd-cluster, /var/log/lsyncd, /etc/lsyncd, /usr/local/bin " +
  'with what is in or above them; use a directory of its own such as "/srv/pics" or "/var/www/images"';
const EXCLUDE = 'must be a non-empty rsync exclude pattern of at most 256 characters, without line breaks or NUL, e.g. "*.tmp"';
const OPERATOR_WHY =
  'the CIDRs allowed to SSH to the hosts, e.g. ["203.0.113.7/32"] (find your address with: curl -s https://checkip.amazonaws.com)';
const CIDR = 'must be an IPv4 CIDR: four numbers 0 to 255, "/" and a prefix length 0 to 32, e.g. "203.0.113.7/32"';
const INSTANCE_TYPE = 'must be an EC2 instance type: family "." size, lowercase, e.g. "m6i.large"';
const UNIX_USER = 'must be a Unix user name: a lowercase letter or "_", then up to 31 lowercase letters, digits, "_" or "-"';
const NVME = 'must have local NVMe instance storage when disk.kind is "instance-store" (e.g. m6id.large, c6gd.large, i4i.large)';
const EBS_ONLY = 'applies only when disk.kind is "ebs" (an instance-store disk is the NVMe drive the instance type comes with); remove it';
const ADDRESS = 'must be an IPv4 address, an IPv6 address (no brackets) or a DNS name, e.g. "10.0.0.11" or "node1.example.com"';
const DEVICE = 'must be a block device path under /dev/, e.g. "/dev/nvme1n1", "/dev/loop3" or "/dev/disk/by-id/nvme-..."';
const HOST_KEY =
  'must be the host\'s SSH public key on one line, "<type> <base64> [comment]" with type ssh-ed25519, ' +
  "ecdsa-sha2-nistp256/384/521 or ssh-rsa (see /etc/ssh/ssh_host_ed25519_key.pub on the host)";
const NODES =
  'must be a list of 1 to 50 hosts (the web nodes), e.g. [{"name":"web1","address":"10.0.0.11","hostKey":"ssh-ed25519 AAAA..."},{"name":"web2","address":"10.0.0.12","hostKey":"ssh-ed25519 AAAA..."}]';
const SET_KEY = "set it with: pulumi config set --secret lsyncd-cluster:sshPrivateKey < ~/.ssh/id_ed25519";

// [what is wrong, raw config, the one problem line it must produce]
const awsCases: [string, Raw, string][] = [
  // lsyncd
  ["delay not a number", aws({ lsyncd: { delay: "fast" } }), '[lsyncd.delay] must be a whole number of seconds from 0 to 60; got "fast"'],
  ["delay above 60", aws({ lsyncd: { delay: 61 } }), "[lsyncd.delay] must be a whole number of seconds from 0 to 60; got 61"],
  ["delay fractional", aws({ lsyncd: { delay: 0.5 } }), "[lsyncd.delay] must be a whole number of seconds from 0 to 60; got 0.5"],
  ["maxProcesses above 64", aws({ lsyncd: { maxProcesses: 65 } }), "[lsyncd.maxProcesses] must be a whole number from 1 to 64; got 65"],
  [
    "statusInterval 0",
    aws({ lsyncd: { statusInterval: 0 } }),
    "[lsyncd.statusInterval] must be a whole number of seconds from 1 to 3600; got 0",
  ],
  [
    "excludes not a list",
    aws({ lsyncd: { excludes: "*.tmp" } }),
    '[lsyncd.excludes] must be a list of rsync exclude patterns, e.g. ["*.tmp", ".cache/"]; got "*.tmp"',
  ],
  ["empty exclude", aws({ lsyncd: { excludes: ["*.part", ""] } }), `[lsyncd.excludes[1]] ${EXCLUDE}; got ""`],
  ["exclude with a newline", aws({ lsyncd: { excludes: ["a\nb"] } }), `[lsyncd.excludes[0]] ${EXCLUDE}; got "a\\nb"`],
  ["exclude with NUL", aws({ lsyncd: { excludes: ["a\0b"] } }), `[lsyncd.excludes[0]] ${EXCLUDE}; got "a\\u0000b"`],
  [
    "exclude of 257 characters",
    aws({ lsyncd: { excludes: ["x".repeat(257)] } }),
    `[lsyncd.excludes[0]] ${EXCLUDE}; got "${"x".repeat(257)}"`,
  ],
  [
    "typo in lsyncd",
    aws({ lsyncd: { dealy: 1 } }),
    "[lsyncd.dealy] is not a known key; known keys here: delay, maxProcesses, excludes, statusInterval, quietPeriod",
  ],
  [
    "lsyncd not an object",
    aws({ lsyncd: "fast" }),
    '[lsyncd] must be an object with any of the keys delay, maxProcesses, excludes, statusInterval, quietPeriod; got "fast"',
  ],
  [
    "quietPeriod negative",
    aws({ lsyncd: { quietPeriod: -1 } }),
    "[lsyncd.quietPeriod] must be a number of seconds from 0 to 60, in steps of 0.1; got -1",
  ],
  [
    "quietPeriod too fine",
    aws({ lsyncd: { quietPeriod: 0.25 } }),
    "[lsyncd.quietPeriod] must be a number of seconds from 0 to 60, in steps of 0.1; got 0.25",
  ],
  [
    "quietPeriod as a string",
    aws({ lsyncd: { quietPeriod: "1s" } }),
    '[lsyncd.quietPeriod] must be a number of seconds from 0 to 60, in steps of 0.1; got "1s"',
  ],
  [
    "audit interval 0",
    aws({ audit: { intervalMinutes: 0 } }),
    "[audit.intervalMinutes] must be a whole number of minutes from 1 to 1440; got 0",
  ],
  [
    "audit grace fractional",
    aws({ audit: { graceSeconds: 1.5 } }),
    "[audit.graceSeconds] must be a whole number of seconds from 0 to 3600; got 1.5",
  ],
  [
    "audit.checksumHours over a year",
    aws({ audit: { checksumHours: 9000 } }),
    "[audit.checksumHours] must be a whole number of hours from 0 to 8760; got 9000",
  ],
  [
    "typo in audit",
    aws({ audit: { interval: 5 } }),
    "[audit.interval] is not a known key; known keys here: intervalMinutes, graceSeconds, checksumHours",
  ],
  // inotify, web
  [
    "maxUserWatches too low",
    aws({ inotify: { maxUserWatches: 8191 } }),
    "[inotify.maxUserWatches] must be a whole number from 8192 to 2147483647; got 8191",
  ],
  [
    "maxQueuedEvents past int32",
    aws({ inotify: { maxQueuedEvents: 2147483648 } }),
    "[inotify.maxQueuedEvents] must be a whole number from 16384 to 2147483647; got 2147483648",
  ],
  [
    "maxUserInstances as a string",
    aws({ inotify: { maxUserInstances: "1024" } }),
    '[inotify.maxUserInstances] must be a whole number from 128 to 2147483647; got "1024"',
  ],
  ["web.enabled not a boolean", aws({ web: { enabled: "yes" } }), '[web.enabled] must be true or false; got "yes"'],
  ["web.port too high", aws({ web: { port: 65536 } }), "[web.port] must be a whole number from 1 to 65535; got 65536"],
  ["typo in web", aws({ web: { ports: 80 } }), "[web.ports] is not a known key; known keys here: enabled, port"],
  // syncDir
  ["syncDir /", aws({ syncDir: "/" }), `[syncDir] ${SYNC_DIR}; got "/"`],
  ["syncDir with trailing slash", aws({ syncDir: "/srv/pics/" }), `[syncDir] ${SYNC_DIR} (did you mean "/srv/pics"?); got "/srv/pics/"`],
  ["syncDir relative", aws({ syncDir: "srv/pics" }), `[syncDir] ${SYNC_DIR} (did you mean "/srv/pics"?); got "srv/pics"`],
  ["syncDir with // and /./", aws({ syncDir: "/srv//./pics" }), `[syncDir] ${SYNC_DIR} (did you mean "/srv/pics"?); got "/srv//./pics"`],
  ["syncDir with ..", aws({ syncDir: "/srv/../etc" }), `[syncDir] ${SYNC_DIR}; got "/srv/../etc"`],
  ["syncDir with a space", aws({ syncDir: "/srv/my pics" }), `[syncDir] ${SYNC_DIR}; got "/srv/my pics"`],
  ["syncDir with a newline", aws({ syncDir: "/srv/pics\n" }), `[syncDir] ${SYNC_DIR}; got "/srv/pics\\n"`],
  ["syncDir not a string", aws({ syncDir: 42 }), `[syncDir] ${SYNC_DIR}; got 42`],
  ["syncDir /etc", aws({ syncDir: "/etc" }), `[syncDir] ${SYSTEM_DIR}; got "/etc"`],
  ["syncDir /home", aws({ syncDir: "/home" }), `[syncDir] ${SYSTEM_DIR}; got "/home"`],
  ["syncDir under /tmp", aws({ syncDir: "/tmp/pics" }), `[syncDir] ${SYSTEM_DIR}; got "/tmp/pics"`],
  // issue 11: the sync user would own these, and every stolen sync key would write there
  ...[
    "/home/admin",
    "/root/.ssh",
    "/usr/local/bin",
    "/var/spool/cron",
    "/var/lib/lsyncd-cluster/sync-home",
    "/boot/efi",
    "/var/lib/images",
    "/run/pics",
    "/srv",
    "/var/www",
    "/etc/lsyncd-cluster",
    "/var/log/lsyncd/x",
  ].map((dir): [string, Raw, string] => [`syncDir ${dir}`, aws({ syncDir: dir }), `[syncDir] ${SYSTEM_DIR}; got "${dir}"`]),
  // hosts in AWS
  ["nodeCount in words", aws({ nodeCount: "three" }), '[nodeCount] must be a whole number from 1 to 50; got "three"'],
  ["nodeCount above 50", aws({ nodeCount: 51 }), "[nodeCount] must be a whole number from 1 to 50; got 51"],
  ["nodeCount null", aws({ nodeCount: null }), "[nodeCount] must be a whole number from 1 to 50; got null"],
  ["instanceType in capitals", aws({ instanceType: "M6I.large" }), `[instanceType] ${INSTANCE_TYPE}; got "M6I.large"`],
  ["exchangeInstanceType without size", aws({ exchangeInstanceType: "t3" }), `[exchangeInstanceType] ${INSTANCE_TYPE}; got "t3"`],
  ["availabilityZones 0", aws({ availabilityZones: 0 }), "[availabilityZones] must be a whole number from 1 to 6; got 0"],
  ["availabilityZones 7", aws({ availabilityZones: 7 }), "[availabilityZones] must be a whole number from 1 to 6; got 7"],
  [
    "ami that is only digits",
    aws({ ami: "123" }),
    '[ami] must be an AMI id such as "ami-0123456789abcdef0" (leave it unset to use the newest official Debian 12 image); got "123"',
  ],
  [
    "ami too short",
    aws({ ami: "ami-1234567" }),
    '[ami] must be an AMI id such as "ami-0123456789abcdef0" (leave it unset to use the newest official Debian 12 image); got "ami-1234567"',
  ],
  ["sshUser in capitals", aws({ sshUser: "Admin" }), `[sshUser] ${UNIX_USER}; got "Admin"`],
  // CIDRs
  ["operatorCidrs missing", {}, `[operatorCidrs] is required in AWS mode: ${OPERATOR_WHY}; got nothing`],
  ["operatorCidrs empty", aws({ operatorCidrs: [] }), `[operatorCidrs] must be a non-empty list of IPv4 CIDRs: ${OPERATOR_WHY}; got []`],
  [
    "operatorCidrs a plain string",
    aws({ operatorCidrs: "203.0.113.7/32" }),
    `[operatorCidrs] must be a non-empty list of IPv4 CIDRs: ${OPERATOR_WHY}; got "203.0.113.7/32"`,
  ],
  [
    "SSH open to the world",
    aws({ operatorCidrs: ["0.0.0.0/0"] }),
    `[operatorCidrs[0]] must not open SSH to the whole internet (a /0 prefix); list the operators' own addresses instead, e.g. "203.0.113.7/32"; got "0.0.0.0/0"`,
  ],
  [
    "host bits set",
    aws({ operatorCidrs: ["10.0.0.1/8"] }),
    '[operatorCidrs[0]] must have no address bits set after the /8 prefix: use "10.0.0.0/8" for the network, or "10.0.0.1/32" for the one address; got "10.0.0.1/8"',
  ],
  [
    "address without prefix",
    aws({ operatorCidrs: ["203.0.113.7"] }),
    '[operatorCidrs[0]] must be an IPv4 CIDR with a prefix length: use "203.0.113.7/32" for this one address; got "203.0.113.7"',
  ],
  ["octet above 255", aws({ operatorCidrs: ["256.1.1.0/24"] }), `[operatorCidrs[0]] ${CIDR}; got "256.1.1.0/24"`],
  ["prefix above 32", aws({ operatorCidrs: ["10.0.0.0/33"] }), `[operatorCidrs[0]] ${CIDR}; got "10.0.0.0/33"`],
  ["leading zero", aws({ operatorCidrs: ["010.0.0.0/8"] }), `[operatorCidrs[0]] ${CIDR}; got "010.0.0.0/8"`],
  ["IPv6 CIDR", aws({ operatorCidrs: ["2001:db8::/32"] }), `[operatorCidrs[0]] ${CIDR}; got "2001:db8::/32"`],
  // issue 11: a union that covers (nearly) everything is as open as 0.0.0.0/0
  [
    "SSH open to the world in two halves",
    aws({ operatorCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }),
    `[operatorCidrs] must together cover at most 16,777,216 addresses (one /8), but these cover 4,294,967,296: SSH to every host would be open to much of the internet; list the operators' own addresses instead, e.g. ["203.0.113.7/32"]; got ["0.0.0.0/1","128.0.0.0/1"]`,
  ],
  [
    "SSH open to a /7",
    aws({ operatorCidrs: ["10.0.0.0/7"] }),
    `[operatorCidrs] must together cover at most 16,777,216 addresses (one /8), but these cover 33,554,432: SSH to every host would be open to much of the internet; list the operators' own addresses instead, e.g. ["203.0.113.7/32"]; got ["10.0.0.0/7"]`,
  ],
  [
    "SSH open to two /8s",
    aws({ operatorCidrs: ["10.0.0.0/8", "203.0.113.7/32", "11.0.0.0/8"] }),
    `[operatorCidrs] must together cover at most 16,777,216 addresses (one /8), but these cover 33,554,433: SSH to every host would be open to much of the internet; list the operators' own addresses instead, e.g. ["203.0.113.7/32"]; got ["10.0.0.0/8","203.0.113.7/32","11.0.0.0/8"]`,
  ],
  [
    "CIDR listed twice",
    aws({ operatorCidrs: ["203.0.113.7/32", "203.0.113.7/32"] }),
    '[operatorCidrs[1]] must be listed only once; "203.0.113.7/32" is already operatorCidrs[0]',
  ],
  [
    "webCidrs empty",
    aws({ webCidrs: [] }),
    '[webCidrs] must be a non-empty list of IPv4 CIDRs allowed to reach HTTP on the web nodes, e.g. ["0.0.0.0/0"] or ["10.0.0.0/8"]; got []',
  ],
  [
    "webCidrs host bits",
    aws({ webCidrs: ["10.1.0.0/8"] }),
    '[webCidrs[0]] must have no address bits set after the /8 prefix: use "10.0.0.0/8" for the network, or "10.1.0.0/32" for the one address; got "10.1.0.0/8"',
  ],
  // disk
  [
    "disk as a string",
    aws({ disk: "ebs" }),
    '[disk] must be an object with any of the keys kind, sizeGiB, iops, throughputMiBps, e.g. {"kind":"ebs","sizeGiB":100}; got "ebs"',
  ],
  ["disk.kind gp2", aws({ disk: { kind: "gp2" } }), '[disk.kind] must be "ebs" or "instance-store"; got "gp2"'],
  ["disk.sizeGiB 0", aws({ disk: { sizeGiB: 0 } }), "[disk.sizeGiB] must be a whole number of GiB from 1 to 16384; got 0"],
  ["disk.iops below gp3 minimum", aws({ disk: { iops: 2999 } }), "[disk.iops] must be a whole number of IOPS from 3000 to 80000; got 2999"],
  [
    "disk.throughputMiBps above 2000",
    aws({ disk: { throughputMiBps: 2001 } }),
    "[disk.throughputMiBps] must be a whole number of MiB/s from 125 to 2000; got 2001",
  ],
  [
    "iops above 500 per GiB",
    aws({ disk: { sizeGiB: 10, iops: 6000 } }),
    "[disk.iops] must be at most 5000 for a 10 GiB gp3 volume (AWS allows 500 IOPS per GiB, and 3000 on any size): lower disk.iops to 5000 or raise disk.sizeGiB to 12; got 6000",
  ],
  [
    "iops above the baseline on a tiny disk",
    aws({ disk: { sizeGiB: 4, iops: 3001 } }),
    "[disk.iops] must be at most 3000 for a 4 GiB gp3 volume (AWS allows 500 IOPS per GiB, and 3000 on any size): lower disk.iops to 3000 or raise disk.sizeGiB to 7; got 3001",
  ],
  [
    "throughput above iops / 4",
    aws({ disk: { throughputMiBps: 1000 } }),
    "[disk.throughputMiBps] must be at most 750 for 3000 IOPS (gp3 allows 0.25 MiB/s per IOPS, i.e. disk.iops / 4): lower disk.throughputMiBps to 750 or raise disk.iops to 4000; got 1000",
  ],
  ["typo in disk", aws({ disk: { size: 100 } }), "[disk.size] is not a known key; known keys here: kind, sizeGiB, iops, throughputMiBps"],
  [
    "instance-store with a size",
    aws({ instanceType: "m6id.large", exchangeInstanceType: "c6gd.large", disk: { kind: "instance-store", sizeGiB: 100 } }),
    `[disk.sizeGiB] ${EBS_ONLY}; got 100`,
  ],
  [
    "instance-store on a type without NVMe",
    aws({ exchangeInstanceType: "c6gd.large", disk: { kind: "instance-store" } }),
    `[instanceType] ${NVME}; got "m6i.large"`,
  ],
  [
    "instance-store on the default exchange type",
    aws({ instanceType: "m6id.large", disk: { kind: "instance-store" } }),
    `[exchangeInstanceType] ${NVME}; got "t3.small"`,
  ],
  [
    "dlm snapshots of an instance-store exchange",
    aws({ instanceType: "m6id.large", exchangeInstanceType: "c6gd.large", disk: { kind: "instance-store" }, dlm: { enabled: true } }),
    '[dlm.enabled] needs an EBS data disk (disk.kind "ebs"): an instance-store exchange has no volume to snapshot; set it to false; got true',
  ],
  [
    "dlm interval DLM does not offer",
    aws({ dlm: { intervalHours: 5 } }),
    "[dlm.intervalHours] must be one of 1, 2, 3, 4, 6, 8, 12, 24 (hours between snapshots); got 5",
  ],
  ["dlm time not HH:MM", aws({ dlm: { time: "3am" } }), '[dlm.time] must be a UTC time "HH:MM", e.g. "03:00"; got "3am"'],
  [
    "dlm keeping no snapshot",
    aws({ dlm: { retainCount: 0 } }),
    "[dlm.retainCount] must be a whole number of snapshots from 1 to 1000; got 0",
  ],
  [
    "versions kept for a negative time",
    aws({ versions: { keepDays: -1 } }),
    "[versions.keepDays] must be a whole number of days from 0 to 3650; got -1",
  ],
  [
    "delete fuse window of 0 s",
    aws({ deleteFuse: { seconds: 0 } }),
    "[deleteFuse.seconds] must be a whole number of seconds from 1 to 86400; got 0",
  ],
  [
    "one ami for two architectures",
    aws({ ami: "ami-0123456789abcdef0", instanceType: "m7g.large" }),
    '[exchangeInstanceType] must have the same CPU architecture as instanceType (arm64) when ami is set, since that one image boots every host; pick an arm64 type or remove ami; got "t3.small"',
  ],
  // keys of the other mode, unknown keys
  [
    "sshPrivateKey without hosts",
    aws({ sshPrivateKey: PEM_KEY }),
    "[sshPrivateKey] is only used with hosts (existing-hosts mode); in AWS mode the program makes its own operator key, so remove it: pulumi config rm lsyncd-cluster:sshPrivateKey; got <secret>",
  ],
  [
    "unknown top-level key",
    aws({ nodecount: 3 }),
    "[nodecount] is not a known key; known keys here: syncDir, lsyncd, inotify, web, audit, versions, deleteFuse, nodeCount, instanceType, exchangeInstanceType, availabilityZones, ami, sshUser, operatorCidrs, webCidrs, disk, dlm, hosts",
  ],
];

const fiftyOneNodes = Array.from({ length: 51 }, (_, i) => ({ name: `n${i + 1}`, address: `10.0.1.${i + 1}`, hostKey: KEY_A }));

const existingCases: [string, Raw, string][] = [
  [
    "duplicate names",
    withNodes({ name: "node01", address: "10.0.0.11" }, { name: "node02", address: "10.0.0.12" }, { name: "node01", address: "10.0.0.13" }),
    '[hosts.nodes[2].name] must be unique; "node01" is already used by hosts.nodes[0]',
  ],
  [
    "a node named like the exchange",
    existing({
      hosts: {
        exchange: { name: "node01", address: "10.0.0.10", hostKey: KEY_A },
        nodes: [{ name: "node01", address: "10.0.0.11", hostKey: KEY_A }],
      },
    }),
    '[hosts.nodes[0].name] must be unique; "node01" is already used by hosts.exchange',
  ],
  // A node's name is its identity: never taken from its position in the list.
  [
    "a node without a name",
    existing({ hosts: { exchange: HOSTS.exchange, nodes: [{ address: "10.0.0.11", hostKey: KEY_A }] } }),
    `[hosts.nodes[0].name] ${NAME_REQUIRED}`,
  ],
  [
    "a node without a hostKey",
    existing({ hosts: { exchange: HOSTS.exchange, nodes: [{ name: "web1", address: "10.0.0.11" }] } }),
    `[hosts.nodes[0].hostKey] ${HOST_KEY_REQUIRED}`,
  ],
  [
    "the exchange without a hostKey",
    existing({ hosts: { exchange: { address: "10.0.0.10" }, nodes: HOSTS.nodes } }),
    `[hosts.exchange.hostKey] ${HOST_KEY_REQUIRED}`,
  ],
  [
    // Host keys are always pinned: there is no key to turn that off (issue 11).
    "a key that would turn host key checking off",
    existing({ hosts: { ...HOSTS, insecureSkipHostKeyCheck: true } }),
    "[hosts.insecureSkipHostKeyCheck] is not a known key; known keys here: exchange, nodes",
  ],
  [
    "node on the exchange's address and port",
    withNodes({ address: "10.0.0.10" }),
    '[hosts.nodes[0].address] must be unique together with port; "10.0.0.10" port 22 is already used by hosts.exchange',
  ],
  [
    "one DNS name in two spellings",
    withNodes({ address: "web1.example.com" }, { address: "WEB1.example.com" }),
    '[hosts.nodes[1].address] must be unique together with port; "WEB1.example.com" port 22 is already used by hosts.nodes[0]',
  ],
  [
    "address missing",
    withNodes({ address: "10.0.0.11" }, { name: "web2" }),
    '[hosts.nodes[1].address] is required: the IPv4 address, IPv6 address or DNS name the operator and the other hosts reach this host at, e.g. "10.0.0.11"; got nothing',
  ],
  ["address with a space", withNodes({ address: "web 1" }), `[hosts.nodes[0].address] ${ADDRESS}; got "web 1"`],
  ["IPv6 in brackets", withNodes({ address: "[2001:db8::1]" }), `[hosts.nodes[0].address] ${ADDRESS}; got "[2001:db8::1]"`],
  ["IPv4 octet above 255", withNodes({ address: "10.0.0.256" }), `[hosts.nodes[0].address] ${ADDRESS}; got "10.0.0.256"`],
  ["IPv6 with a zone", withNodes({ address: "fe80::1%eth0" }), `[hosts.nodes[0].address] ${ADDRESS}; got "fe80::1%eth0"`],
  ["port 0", withNodes({ address: "10.0.0.11", port: 0 }), "[hosts.nodes[0].port] must be a whole number from 1 to 65535; got 0"],
  [
    "port as text",
    withNodes({ address: "10.0.0.11", port: "ssh" }),
    '[hosts.nodes[0].port] must be a whole number from 1 to 65535; got "ssh"',
  ],
  ["user in capitals", withExchange({ address: "10.0.0.10", user: "Root" }), `[hosts.exchange.user] ${UNIX_USER}; got "Root"`],
  [
    "name in capitals",
    withNodes({ name: "Node-1", address: "10.0.0.11" }),
    '[hosts.nodes[0].name] must be 1 to 31 lowercase letters, digits or "-", not starting with "-", e.g. "node01"; got "Node-1"',
  ],
  ["disk outside /dev", withNodes({ address: "10.0.0.11", disk: "/srv/disk.img" }), `[hosts.nodes[0].disk] ${DEVICE}; got "/srv/disk.img"`],
  [
    "disk climbing out of /dev",
    withNodes({ address: "10.0.0.11", disk: "/dev/../etc/passwd" }),
    `[hosts.nodes[0].disk] ${DEVICE}; got "/dev/../etc/passwd"`,
  ],
  [
    "hostKey without its type",
    withNodes({ address: "10.0.0.11", hostKey: "AAAAC3NzaC1lZDI1NTE5AAAAI" }),
    `[hosts.nodes[0].hostKey] ${HOST_KEY}; got "AAAAC3NzaC1lZDI1NTE5AAAAI"`,
  ],
  [
    // Once accepted here and refused when known_hosts was written, mid-deploy (two regexes).
    "hostKey with = inside its base64",
    withNodes({ address: "10.0.0.11", hostKey: "ssh-ed25519 AAAA=AAAA" }),
    `[hosts.nodes[0].hostKey] ${HOST_KEY}; got "ssh-ed25519 AAAA=AAAA"`,
  ],
  [
    "hostKey of two lines",
    withNodes({ address: "10.0.0.11", hostKey: "ssh-ed25519 AAAA a\nssh-rsa AAAA b" }),
    `[hosts.nodes[0].hostKey] ${HOST_KEY}; got "ssh-ed25519 AAAA a\\nssh-rsa AAAA b"`,
  ],
  [
    "listenAddress as a name",
    withNodes({ address: "10.0.0.11", listenAddress: "localhost" }),
    '[hosts.nodes[0].listenAddress] must be an IPv4 or IPv6 address (no brackets) of this host for nginx to listen on, e.g. "10.0.0.11"; got "localhost"',
  ],
  ["no nodes", withNodes(), `[hosts.nodes] ${NODES}; got []`],
  ["51 nodes", withNodes(...fiftyOneNodes), `[hosts.nodes] ${NODES}; got ${JSON.stringify(fiftyOneNodes)}`],
  [
    "nodes missing",
    existing({ hosts: { exchange: HOSTS.exchange } }),
    '[hosts.nodes] is required: the web nodes, a list of 1 to 50 hosts, e.g. [{"name":"web1","address":"10.0.0.11","hostKey":"ssh-ed25519 AAAA..."},{"name":"web2","address":"10.0.0.12","hostKey":"ssh-ed25519 AAAA..."}]; got nothing',
  ],
  [
    "exchange missing",
    existing({ hosts: { nodes: HOSTS.nodes } }),
    '[hosts.exchange] is required: the exchange (hub) host, e.g. {"address":"10.0.0.10","hostKey":"ssh-ed25519 AAAA..."}; got nothing',
  ],
  [
    "node given as a bare address",
    withNodes("10.0.0.11"),
    '[hosts.nodes[0]] must be a host object with "name", "address", "hostKey" and optionally port, user, disk, listenAddress, e.g. {"name":"web1","address":"10.0.0.11","hostKey":"ssh-ed25519 AAAA..."}; got "10.0.0.11"',
  ],
  [
    "hosts not an object",
    existing({ hosts: "10.0.0.10" }),
    '[hosts] must be an object with "exchange" and "nodes", e.g. {"exchange":{"address":"10.0.0.10","hostKey":"ssh-ed25519 AAAA..."},"nodes":[{"name":"web1","address":"10.0.0.11","hostKey":"ssh-ed25519 AAAA..."},{"name":"web2","address":"10.0.0.12","hostKey":"ssh-ed25519 AAAA..."}]}; got "10.0.0.10"',
  ],
  [
    "typo in a host",
    withNodes({ address: "10.0.0.11", prot: 2222 }),
    "[hosts.nodes[0].prot] is not a known key; known keys here: name, address, port, user, disk, hostKey, listenAddress",
  ],
  ["typo in hosts", existing({ hosts: { ...HOSTS, node: [] } }), "[hosts.node] is not a known key; known keys here: exchange, nodes"],
  // the operator key
  [
    "sshPrivateKey missing",
    existing({ sshPrivateKey: undefined }),
    `[sshPrivateKey] is required with hosts: the private key of the operator's SSH logins to every host; ${SET_KEY}; got nothing`,
  ],
  [
    "sshPrivateKey is a public key",
    existing({ sshPrivateKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI op@laptop" }),
    `[sshPrivateKey] must be an SSH private key in OpenSSH or PEM form ("-----BEGIN ... PRIVATE KEY-----" through "-----END ... PRIVATE KEY-----"); ${SET_KEY}; got <secret>`,
  ],
  [
    "sshPrivateKey cut short",
    existing({ sshPrivateKey: PEM_KEY.slice(0, 60) }),
    `[sshPrivateKey] must be an SSH private key in OpenSSH or PEM form ("-----BEGIN ... PRIVATE KEY-----" through "-----END ... PRIVATE KEY-----"); ${SET_KEY}; got <secret>`,
  ],
  [
    "sshPrivateKey with a passphrase",
    existing({ sshPrivateKey: ENCRYPTED_KEY }),
    '[sshPrivateKey] must be a private key without a passphrase (nothing can type one during pulumi up); make a dedicated key with: ssh-keygen -t ed25519 -N "" -f ~/.ssh/lsyncd-cluster, then pulumi config set --secret lsyncd-cluster:sshPrivateKey < ~/.ssh/lsyncd-cluster; got <secret>',
  ],
  [
    "sshPrivateKey not a string",
    existing({ sshPrivateKey: { key: "x" } }),
    `[sshPrivateKey] must be an SSH private key in OpenSSH or PEM form ("-----BEGIN ... PRIVATE KEY-----" through "-----END ... PRIVATE KEY-----"); ${SET_KEY}; got <secret>`,
  ],
  // keys of the other mode, unknown keys
  [
    "nodeCount with hosts",
    existing({ nodeCount: 3 }),
    "[nodeCount] applies only in AWS mode, but hosts is set: remove it (with hosts, the nodes are the entries of hosts.nodes); got 3",
  ],
  [
    "operatorCidrs with hosts",
    existing({ operatorCidrs: ["203.0.113.7/32"] }),
    '[operatorCidrs] applies only in AWS mode, but hosts is set: remove it; got ["203.0.113.7/32"]',
  ],
  [
    "disk with hosts",
    existing({ disk: { kind: "ebs" } }),
    '[disk] applies only in AWS mode, but hosts is set: remove it (with hosts, set each host\'s disk, e.g. hosts.nodes[0].disk = "/dev/nvme1n1"); got {"kind":"ebs"}',
  ],
  [
    "unknown top-level key with hosts",
    existing({ sshKey: "x" }),
    "[sshKey] is not a known key; known keys here: syncDir, lsyncd, inotify, web, audit, versions, deleteFuse, hosts, sshPrivateKey",
  ],
];

describe("one bad value gives exactly one line naming the key, what is accepted and what was given", () => {
  test.each(awsCases)("AWS mode: %s", (_, raw, line) => {
    expect(problemsOf(raw)).toEqual([line]);
  });
  test.each(existingCases)("existing hosts: %s", (_, raw, line) => {
    expect(problemsOf(raw)).toEqual([line]);
  });
});

describe("every problem is reported in one throw", () => {
  test("AWS mode: a missing key, range and type errors, a typo and cross-key rules together", () => {
    const error = errorOf({
      nodeCount: 0,
      lsyncd: { delay: "fast", dealy: 1 },
      webCidrs: ["10.0.0.1/8"],
      disk: { kind: "instance-store", iops: 4000 },
    });
    const problems = [
      '[lsyncd.delay] must be a whole number of seconds from 0 to 60; got "fast"',
      "[lsyncd.dealy] is not a known key; known keys here: delay, maxProcesses, excludes, statusInterval, quietPeriod",
      "[nodeCount] must be a whole number from 1 to 50; got 0",
      `[operatorCidrs] is required in AWS mode: ${OPERATOR_WHY}; got nothing`,
      '[webCidrs[0]] must have no address bits set after the /8 prefix: use "10.0.0.0/8" for the network, or "10.0.0.1/32" for the one address; got "10.0.0.1/8"',
      `[disk.iops] ${EBS_ONLY}; got 4000`,
      `[instanceType] ${NVME}; got "m6i.large"`,
      `[exchangeInstanceType] ${NVME}; got "t3.small"`,
    ];
    expect(error.problems).toEqual(problems);
    expect(error.message).toBe(["Invalid lsyncd-cluster config:", ...problems.map((p) => `  - ${p}`)].join("\n"));
    expect(error.name).toBe("ConfigError");
  });

  test("existing hosts: bad host fields do not hide duplicate names, the missing key or AWS-only keys", () => {
    const problems = problemsOf({
      hosts: {
        exchange: { address: "10.0.0.10", port: 70000, hostKey: KEY_A },
        nodes: [
          { name: "web", address: "10.0.0.11", hostKey: KEY_A },
          { name: "web", address: "10.0.0.12", user: "Bob", hostKey: KEY_A },
        ],
      },
      instanceType: "m6i.large",
    });
    expect(problems).toEqual([
      "[hosts.exchange.port] must be a whole number from 1 to 65535; got 70000",
      `[hosts.nodes[1].user] ${UNIX_USER}; got "Bob"`,
      '[hosts.nodes[1].name] must be unique; "web" is already used by hosts.nodes[0]',
      `[sshPrivateKey] is required with hosts: the private key of the operator's SSH logins to every host; ${SET_KEY}; got nothing`,
      '[instanceType] applies only in AWS mode, but hosts is set: remove it; got "m6i.large"',
    ]);
  });

  test("gp3 limits are both checked even when the first one fails", () => {
    expect(problemsOf(aws({ disk: { sizeGiB: 5, iops: 4000, throughputMiBps: 1200 } }))).toEqual([
      "[disk.iops] must be at most 3000 for a 5 GiB gp3 volume (AWS allows 500 IOPS per GiB, and 3000 on any size): lower disk.iops to 3000 or raise disk.sizeGiB to 8; got 4000",
      "[disk.throughputMiBps] must be at most 1000 for 4000 IOPS (gp3 allows 0.25 MiB/s per IOPS, i.e. disk.iops / 4): lower disk.throughputMiBps to 1000 or raise disk.iops to 4800; got 1200",
    ]);
  });
});

const COMMON_DEFAULTS = {
  syncDir: "/srv/pics",
  lsyncd: { delay: 0, maxProcesses: 1, excludes: [], statusInterval: 10, quietPeriod: 1 },
  inotify: { maxUserWatches: 16777216, maxQueuedEvents: 65536, maxUserInstances: 1024 },
  web: { enabled: true, port: 80 },
  audit: { intervalMinutes: 10, graceSeconds: 60, checksumHours: 24 },
  versions: { keepDays: 14, warnDiskPercent: 20 },
  deleteFuse: { files: 200, seconds: 60 },
};

describe("good configs come back typed and defaulted", () => {
  test("AWS mode with only operatorCidrs: every default", () => {
    expect(parseClusterConfig({ operatorCidrs: ["203.0.113.7/32"] })).toStrictEqual({
      mode: "aws",
      ...COMMON_DEFAULTS,
      nodeCount: 3,
      instanceType: "m6i.large",
      exchangeInstanceType: "t3.small",
      availabilityZones: 2,
      sshUser: "admin",
      operatorCidrs: ["203.0.113.7/32"],
      webCidrs: ["0.0.0.0/0"],
      disk: { kind: "ebs", sizeGiB: 100, iops: 3000, throughputMiBps: 125 },
      dlm: { enabled: true, intervalHours: 24, time: "03:00", retainCount: 14 },
    });
  });

  test("AWS mode with every key set: values carried over as given", () => {
    const raw = {
      syncDir: "/data/images-v2",
      lsyncd: { delay: 3, maxProcesses: 4, excludes: ["*.part", ".cache/"], statusInterval: 30, quietPeriod: 2.5 },
      inotify: { maxUserWatches: 8192, maxQueuedEvents: 16384, maxUserInstances: 128 },
      web: { enabled: false, port: 8080 },
      audit: { intervalMinutes: 60, graceSeconds: 300, checksumHours: 0 },
      versions: { keepDays: 0, warnDiskPercent: 50 },
      deleteFuse: { files: 0, seconds: 300 },
      nodeCount: 50,
      instanceType: "m7g.large",
      exchangeInstanceType: "t4g.small",
      availabilityZones: 6,
      ami: "ami-0123456789abcdef0",
      sshUser: "debian",
      operatorCidrs: ["203.0.113.7/32", "198.51.100.0/24"],
      webCidrs: ["10.0.0.0/8"],
      disk: { kind: "ebs", sizeGiB: 10, iops: 5000, throughputMiBps: 1250 },
      dlm: { enabled: false, intervalHours: 6, time: "23:45", retainCount: 100 },
    };
    expect(parseClusterConfig(raw)).toStrictEqual({ mode: "aws", ...raw });
  });

  test("AWS mode: gp3 baseline of 3000 IOPS is fine on a 1 GiB disk", () => {
    const spec = parseClusterConfig(aws({ disk: { sizeGiB: 1 } }));
    expect(spec.mode === "aws" && spec.disk).toStrictEqual({ kind: "ebs", sizeGiB: 1, iops: 3000, throughputMiBps: 125 });
  });

  test("AWS mode: instance-store disk on NVMe types carries no size", () => {
    const spec = parseClusterConfig(
      aws({ instanceType: "m6id.large", exchangeInstanceType: "c6gd.medium", disk: { kind: "instance-store" } }),
    );
    expect(spec.mode === "aws" && spec.disk).toStrictEqual({ kind: "instance-store" });
    // No volume to snapshot: DLM is off unless asked for (and then refused, above).
    expect(spec.mode === "aws" && spec.dlm.enabled).toBe(false);
  });

  test("existing hosts with only what is required: every default, no optional key invented", () => {
    expect(parseClusterConfig(existing())).toStrictEqual({
      mode: "existing",
      ...COMMON_DEFAULTS,
      exchange: { name: "exchange", address: "10.0.0.10", port: 22, user: "root", hostKey: KEY_A },
      nodes: [
        { name: "node01", address: "10.0.0.11", port: 22, user: "root", hostKey: KEY_A },
        { name: "node02", address: "10.0.0.12", port: 22, user: "root", hostKey: KEY_A },
      ],
    });
  });

  test("existing hosts with every host key set, an OpenSSH key, IPv6 and names", () => {
    const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample root@hub";
    const exchange = {
      name: "hub",
      address: "2001:db8::10",
      port: 2222,
      user: "deploy",
      disk: "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWS1234",
      hostKey,
      listenAddress: "2001:db8::10",
    };
    const nodes = [
      { name: "web-1", address: "web1.example.com.", port: 22, user: "_sync", disk: "/dev/nvme1n1", listenAddress: "10.0.0.11", hostKey },
      // Same address, other port: two sshd on one machine are two hosts.
      { name: "node02", address: "127.0.0.1", port: 2201, user: "root", disk: "/dev/loop3", hostKey },
      { name: "node03", address: "127.0.0.1", port: 2202, hostKey },
    ];
    const spec = parseClusterConfig({ hosts: { exchange, nodes }, sshPrivateKey: OPENSSH_KEY, syncDir: "/srv/pics" });
    expect(spec).toStrictEqual({
      mode: "existing",
      ...COMMON_DEFAULTS,
      exchange,
      nodes: [
        nodes[0],
        { name: "node02", address: "127.0.0.1", port: 2201, user: "root", disk: "/dev/loop3", hostKey },
        { name: "node03", address: "127.0.0.1", port: 2202, user: "root", hostKey },
      ],
    });
  });
});

describe("the operator's private key never appears in an error", () => {
  const secrets = [PEM_KEY, OPENSSH_KEY, ENCRYPTED_KEY, PEM_KEY.slice(0, 80), "hunter2-but-longer-and-still-secret"];
  // Each config also has one plain mistake, so even a good key comes with an error message.
  const configsWith = (secret: string): Raw[] => [
    existing({ sshPrivateKey: secret, web: { port: 0 } }),
    aws({ sshPrivateKey: secret, web: { port: 0 } }),
    existing({ sshPrivateKey: [secret], web: { port: 0 } }),
    // pasted into the wrong keys as well
    existing({ sshPrivateKey: secret, hosts: { exchange: HOSTS.exchange, nodes: [{ address: "10.0.0.11", hostKey: secret }] } }),
    withNodes({ address: "10.0.0.11", hostKey: secret.includes("PRIVATE KEY") ? secret : "x" }),
    existing({ sshPrivateKey: secret, lsyncd: { excludes: [secret] }, syncDir: secret }),
  ];

  test.each(secrets.map((s, i) => [i, s] as const))("secret #%s", (_, secret) => {
    for (const raw of configsWith(secret)) {
      const error = errorOf(raw);
      const text = [error.message, ...error.problems].join("\n");
      expect(text).not.toContain(secret);
      expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
      // not even one line of it, e.g. the base64 body
      for (const line of secret.split("\n").filter((l) => l.length >= 16)) expect(text).not.toContain(line);
    }
  });
});

describe("readRawStackConfig", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}));

  test("reads only this project's keys, decodes JSON, keeps string keys as written", () => {
    pulumi.runtime.setAllConfig({
      "lsyncd-cluster:nodeCount": "3",
      "lsyncd-cluster:availabilityZones": "three",
      "lsyncd-cluster:ami": "123",
      "lsyncd-cluster:instanceType": "t3.micro",
      "lsyncd-cluster:sshUser": "true",
      "lsyncd-cluster:syncDir": "/srv/pics",
      "lsyncd-cluster:lsyncd": '{"delay":1,"excludes":["*.part"]}',
      "lsyncd-cluster:operatorCidrs": '["203.0.113.7/32"]',
      "lsyncd-cluster:web": '{"enabled":false}',
      // the older key form the language host may still send
      "lsyncd-cluster:config:webCidrs": '["10.0.0.0/8"]',
      "aws:region": "eu-central-1",
      "other-project:nodeCount": "9",
    });
    expect(readRawStackConfig()).toStrictEqual({
      nodeCount: 3,
      availabilityZones: "three",
      ami: "123",
      instanceType: "t3.micro",
      sshUser: "true",
      syncDir: "/srv/pics",
      lsyncd: { delay: 1, excludes: ["*.part"] },
      operatorCidrs: ["203.0.113.7/32"],
      web: { enabled: false },
      webCidrs: ["10.0.0.0/8"],
    });
  });

  test("what it reads goes straight into parseClusterConfig, strings reported as strings", () => {
    pulumi.runtime.setAllConfig({
      "lsyncd-cluster:operatorCidrs": '["203.0.113.7/32"]',
      "lsyncd-cluster:ami": "123",
      "lsyncd-cluster:nodeCount": "three",
    });
    expect(problemsOf(readRawStackConfig())).toEqual([
      '[nodeCount] must be a whole number from 1 to 50; got "three"',
      '[ami] must be an AMI id such as "ami-0123456789abcdef0" (leave it unset to use the newest official Debian 12 image); got "123"',
    ]);
  });

  test("the string keys are exactly the top-level keys whose schema is a string", () => {
    expect([...STRING_KEYS].sort()).toEqual(["ami", "exchangeInstanceType", "instanceType", "sshPrivateKey", "sshUser", "syncDir"]);
  });
});

describe("readSshPrivateKey", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}));

  test("returns the key as a secret Output", async () => {
    pulumi.runtime.setAllConfig({ "lsyncd-cluster:sshPrivateKey": PEM_KEY }, ["lsyncd-cluster:sshPrivateKey"]);
    const key = readSshPrivateKey();
    expect(key).toBeDefined();
    expect(await pulumi.isSecret(key!)).toBe(true);
    await expect(new Promise((resolve) => key!.apply(resolve))).resolves.toBe(PEM_KEY);
  });

  test("is undefined when the key is not set", () => {
    pulumi.runtime.setAllConfig({});
    expect(readSshPrivateKey()).toBeUndefined();
  });
});
