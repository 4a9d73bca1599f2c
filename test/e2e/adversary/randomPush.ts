// A randomized push by an attacker holding a sync key: one of many tricks, seeded, so a
// failure replays with the same seed (LSC_SEED). Each push is a bash tree-builder plus
// rsync arguments, run by attacker.ts's push() from inside the host whose key was stolen.
import { sh } from "../../../components/quote";
import { MARK } from "./attacker";
import { rng } from "../../../testing/harness/seeded";

export { rng };

export interface RandomPush {
  readonly kind: string;
  readonly build: string;
  readonly args: string;
  readonly dest: string;
  /** URL paths that, if nginx answered them with a file from outside, would prove an escape. */
  readonly probes: string[];
}

/** Bash single-quoted word: the program's own quoting helper. */
const q = sh;

const ESCAPES = [
  "/etc",
  "/etc/passwd",
  "/",
  "/root",
  "/dev/shm",
  "/tmp",
  "../../../../etc",
  "../../../..",
  "../../../../../../dev/shm",
  "../../../../var/lib",
];
const ODD = [
  "sp ace",
  "new\nline",
  "-rf",
  "--delete",
  "*",
  "back\\slash",
  "ünïcödé",
  "tab\there",
  "..dots",
  "$(id)",
  "`id`",
  "semi;colon",
  "quote'd",
  'dq"x',
  ".lsyncd-tmp",
  "rsyncd-munged",
  "lost+found",
  "x".repeat(255),
];

export function randomPush(r: () => number, i: number): RandomPush {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const n = `${MARK}${i}`;
  const odd = () => `${MARK}-${pick(ODD)}`.slice(0, 255);
  const chain = (depth: number) => Array.from({ length: depth }, () => `${MARK}c`).join("/");
  const kinds: Array<() => RandomPush> = [
    () => ({
      kind: "absolute link",
      build: `ln -s ${q(pick(ESCAPES))} ${n}`,
      args: `${pick(["-l", "-a", "-rl", "--links"])} ${n}`,
      dest: "",
      probes: [`/${n}`, `/${n}/passwd`, `/${n}/etc/passwd`],
    }),
    () => ({
      kind: "relative link",
      build: `mkdir -p d/e && ln -s ${q(pick(ESCAPES.filter((e) => !e.startsWith("/"))))} d/e/${n}`,
      args: `-a d`,
      dest: pick(["", "x/", "d/e/"]),
      probes: [`/d/e/${n}/etc/passwd`, `/x/d/e/${n}/etc/passwd`],
    }),
    () => ({ kind: "chain start a -> .", build: `ln -s . ${MARK}c`, args: `-l ${MARK}c`, dest: "", probes: [] }),
    () => {
      const d = 2 + Math.floor(r() * 6);
      return {
        kind: "chained link with -R --no-implied-dirs",
        build: `mkdir -p c/${chain(d)} && ln -s ${"../".repeat(d + 3)}etc c/${chain(d)}/${n}`,
        args: `-rlR --no-implied-dirs c/./${chain(d)}/${n}`,
        dest: "",
        probes: [`/${n}/passwd`, `/${chain(d)}/${n}/passwd`],
      };
    },
    () => ({
      kind: "-R with implied dirs",
      build: `mkdir -p s/a/b && echo x > s/a/b/${n}.jpg`,
      args: `-rR s/./a/b/${n}.jpg`,
      dest: pick(["", "../", "../../etc/"]),
      probes: [],
    }),
    () => ({
      kind: "-R without implied dirs",
      build: `mkdir -p s/a/b && echo x > s/a/b/${n}.jpg`,
      args: `-rR --no-implied-dirs s/./a/b/${n}.jpg`,
      dest: pick(["", "a/", "../"]),
      probes: [],
    }),
    () => ({
      kind: "'..' destination",
      build: `echo x > ${n}.jpg`,
      args: `${n}.jpg`,
      dest: pick(["../", "../../etc/", "../../../tmp/", "./../..//etc/", "a/../../../root/", "%2e%2e/"]),
      probes: [],
    }),
    () => ({ kind: "hard links", build: `echo x > ${n}.a && ln ${n}.a ${n}.b`, args: `-H ${n}.a ${n}.b`, dest: "", probes: [] }),
    () => ({
      kind: "link-dest/copy-dest outside",
      build: `cp /etc/hostname ${n} 2>/dev/null || echo x > ${n}`,
      args: `${pick(["--link-dest", "--copy-dest", "--compare-dest"])}=${pick(["/etc", "../../../etc", "../../../../../etc"])} ${n}`,
      dest: "",
      probes: [],
    }),
    () => ({
      kind: "device",
      build: `mknod ${n} ${pick(["c 1 3", "c 1 5", "b 7 0"])}`,
      args: `${pick(["-D", "--devices", "-a", "--copy-devices", "--write-devices"])} ${n}`,
      dest: "",
      probes: [],
    }),
    () => ({ kind: "FIFO", build: `mkfifo ${n}.jpg`, args: `${pick(["-D", "--specials", "-a"])} ${n}.jpg`, dest: "", probes: [] }),
    () => ({
      kind: "socket",
      build: `perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => "${n}.jpg", Listen => 1) or die'`,
      args: `${pick(["-D", "--specials", "-a"])} ${n}.jpg`,
      dest: "",
      probes: [],
    }),
    () => ({
      kind: "setuid/setgid",
      build: `echo x > ${n} && chmod ${pick(["4755", "6755", "2755", "4777", "7777"])} ${n}`,
      args: `${pick(["-p", "-rp", "--perms"])} ${n}`,
      dest: "",
      probes: [],
    }),
    () => ({
      kind: "world-writable",
      build: `mkdir -p ${n}/d && chmod ${pick(["0777", "1777", "0757"])} ${n} ${n}/d && echo x > ${n}/d/f && chmod 0666 ${n}/d/f`,
      args: `-rp ${n}`,
      dest: "",
      probes: [],
    }),
    () => ({
      kind: "--chmod on the sender",
      build: `echo x > ${n}`,
      args: `-p --chmod=${pick(["a+rwx,u+s", "ug+s", "o+w", "D7777,F7777"])} ${n}`,
      dest: "",
      probes: [],
    }),
    () => ({ kind: "odd name", build: `f=${q(odd())}; echo x > "$f"`, args: `-r .`, dest: pick(["", "odd/"]), probes: [] }),
    () => {
      const d = 20 + Math.floor(r() * 40);
      return {
        kind: "deep tree",
        build: `p=$(printf '${MARK}d/%.0s' $(seq ${d})) && mkdir -p "$p" && echo x > "$p/${n}.jpg"`,
        args: "-r .",
        dest: "",
        probes: [],
      };
    },
    () => ({
      kind: "temp-dir outside",
      build: `head -c ${1 + Math.floor(r() * 200000)} /dev/urandom > ${n}.jpg`,
      args: `--temp-dir=${pick(["/dev/shm", "../../../dev/shm", "../../../../tmp", "/etc", ".lsyncd-tmp/../../../dev/shm", `.lsyncd-tmp/${MARK}shm`])} ${n}.jpg`,
      dest: "",
      probes: [],
    }),
    () => ({
      kind: "partial/backup dir outside",
      build: `echo x > ${n}.jpg`,
      args: `${pick(["--partial --partial-dir=../../../tmp/p", "--backup --backup-dir=../../../etc", "--backup --suffix=/../../x", "--delay-updates --partial-dir=/dev/shm"])} ${n}.jpg`,
      dest: "",
      probes: [],
    }),
    () => ({
      kind: "into the temp dir",
      build: `mkdir -p t && echo x > t/${n}`,
      args: `-r t/`,
      dest: pick([".lsyncd-tmp/", ".lsyncd-tmp/exchange/", ".lsyncd-tmp/node01/", ".lsyncd-tmp/node02/"]),
      probes: [],
    }),
    () => ({
      kind: "a link through -a with -K / -L",
      build: `ln -s /etc ${n}`,
      args: `${pick(["-aK", "-aL", "-a --keep-dirlinks", "-a --copy-unsafe-links", "-a --safe-links"])} ${n}`,
      dest: "",
      probes: [`/${n}/passwd`],
    }),
    () => ({
      kind: "delete with a filter that spares nothing",
      build: "mkdir -p empty",
      args: `-r --delete ${pick(["--delete-excluded", "--force", "--ignore-errors"])} ${pick(["--include=/.lsyncd-tmp/", ""])} empty/`,
      dest: pick(["", ".lsyncd-tmp/"]),
      probes: [],
    }),
  ];
  return pick(kinds)();
}
