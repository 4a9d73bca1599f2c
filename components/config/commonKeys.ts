// The keys every mode shares: the sync dir (and the system dirs it must never be), lsyncd
// tuning, the auditor, inotify limits and nginx.
import { z } from "zod";
import { dirname } from "node:path";
import type { CommonSpec } from "../spec";
import { anyOfKeys, checked, matching, say, section, tenthsOfSeconds, wholeNumber } from "./leaves";
import { ETC_DIR, HEALTH_CHECK, LSYNCD_CONF, LSYNCD_LOG_DIR, STATE_DIR, SYNC_HOME } from "../hostLayout";

export const SYNC_DIR_TEXT =
  'must be an absolute path such as "/srv/pics" (letters, digits, ".", "_", "-" and single "/" ' +
  'between names; no "." or ".." names, no trailing "/", not "/" itself)';

// A disk is mounted over the sync dir, the sync user owns it, and whoever holds any host's
// sync key writes into it (issue 11): over /home or /root it would hand out the login
// users' authorized_keys, over /usr/local/bin or /var/spool/cron programs that root runs,
// under /tmp a cleaner's deletes would propagate everywhere, and over this program's own
// dirs the sync user would own its own forced command. Whole trees are refused; a few
// directories only by themselves (/srv/pics, /var/www/images and /opt/images are fine).
export const SYSTEM_TREES = [
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
export const SYSTEM_DIRS: ReadonlySet<string> = new Set(["/media", "/mnt", "/opt", "/srv", "/var", "/var/www"]);
/** This program's own dirs on every host (hostLayout.ts): never inside, over or under the sync dir. */
export const PROGRAM_DIRS = [STATE_DIR, SYNC_HOME, ETC_DIR, LSYNCD_LOG_DIR, dirname(LSYNCD_CONF), dirname(HEALTH_CHECK)];

export function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

export function isTidyAbsolutePath(path: string, nameChars: RegExp): boolean {
  const names = path.split("/").slice(1);
  return path.startsWith("/") && names.length > 0 && names.every((name) => nameChars.test(name) && name !== "." && name !== "..");
}

export const SYNC_DIR_NAME = /^[A-Za-z0-9._-]+$/;
export const SYSTEM_DIR_TEXT =
  "must not be a system, home or lsyncd-cluster directory: the sync user owns it and every " +
  "host's sync key writes into it. Refused: /, /media, /mnt, /opt, /srv, /var, /var/www themselves, " +
  `anything in ${SYSTEM_TREES.join(", ")}, and ${PROGRAM_DIRS.join(", ")} with what is in or above them; ` +
  'use a directory of its own such as "/srv/pics" or "/var/www/images"';

export function syncDirProblem(path: string): string | undefined {
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

export const lsyncdShape = {
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

export const auditShape = {
  intervalMinutes: wholeNumber(1, 1440, "minutes").default(10),
  graceSeconds: wholeNumber(0, 3600, "seconds").default(60),
  // Once a day the timer's run compares content too: two versions with the same size and
  // the same mtime to the nanosecond (uploads that keep the client's mtime) pass rsync's
  // quick check as one file, and nothing else would ever see them (README, "Not
  // converged by lsyncd").
  checksumHours: wholeNumber(0, 8760, "hours").default(24),
};

// Issue 13: what pushes replace or delete is kept on the exchange, and one origin's mass
// delete is held there until the operator decides.
export const versionsShape = {
  keepDays: wholeNumber(0, 3650, "days").default(14),
  warnDiskPercent: wholeNumber(1, 100, "percent").default(20),
};
export const deleteFuseShape = {
  files: wholeNumber(0, 10000000, "files").default(200),
  seconds: wholeNumber(1, 86400, "seconds").default(60),
};

export const INT32_MAX = 2147483647;
export const inotifyShape = {
  maxUserWatches: wholeNumber(8192, INT32_MAX).default(16777216),
  maxQueuedEvents: wholeNumber(16384, INT32_MAX).default(65536),
  maxUserInstances: wholeNumber(128, INT32_MAX).default(1024),
};

export const webShape = {
  enabled: z.boolean(say("must be true or false")).default(true),
  port: wholeNumber(1, 65535).default(80),
};

export const commonShape = {
  syncDir: checked(SYNC_DIR_TEXT, syncDirProblem).default("/srv/pics"),
  lsyncd: section(lsyncdShape, anyOfKeys(lsyncdShape)).prefault({}),
  inotify: section(inotifyShape, anyOfKeys(inotifyShape)).prefault({}),
  web: section(webShape, anyOfKeys(webShape)).prefault({}),
  audit: section(auditShape, anyOfKeys(auditShape)).prefault({}),
  versions: section(versionsShape, anyOfKeys(versionsShape)).prefault({}),
  deleteFuse: section(deleteFuseShape, anyOfKeys(deleteFuseShape)).prefault({}),
};

export interface ParsedCommon {
  readonly syncDir: string;
  readonly lsyncd: CommonSpec["lsyncd"];
  readonly inotify: CommonSpec["inotify"];
  readonly web: CommonSpec["web"];
  readonly audit: CommonSpec["audit"];
  readonly versions: CommonSpec["versions"];
  readonly deleteFuse: CommonSpec["deleteFuse"];
}

export function toCommon(v: ParsedCommon): CommonSpec {
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
