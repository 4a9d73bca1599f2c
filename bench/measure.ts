// The probes the benchmark times: a write on one host until other hosts serve it, a burst
// of files until every host has them, what the harness itself costs, and CPU accounting.
// Every timestamp is the real-time clock (Date.now() here, Time::HiRes::time inside the
// hosts): the test hosts share this machine's clock, so both are comparable.
import { readdirSync, readFileSync, statSync } from "fs";
import { execFileSync } from "child_process";
import { fetchImage, run, SYNC_DIR } from "../testing/harness/cluster";
import { TestCluster, TestHost } from "../testing/fixture/testHosts";
import { LSYNCD_LOG, SSH_CONFIG, targetOf } from "../components/hostLayout";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `rsync -a` as far as the peers' forced rsync daemon allows: it refuses -l and -D
 * (rsyncdConf.ts), and -o -g are no-ops for its unprivileged receiver. The mesh itself
 * syncs no links either.
 */
export const DAEMON_ARCHIVE = "-rtp";

/** Prints the host's real-time clock in ms, to stamp a moment inside a host. */
const STAMP = `perl -MTime::HiRes=time -e 'printf "%.3f\\n", time*1000'`;

// ---------------------------------------------------------------- harness overhead

/** Wall time of `exec(host, "true")`: the nsenter + bash cost included in every write. */
export async function execOverhead(hosts: TestCluster, host: TestHost, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await hosts.exec(host, "true");
    if (r.code !== 0) throw new Error(`no-op exec on ${host.name} exited ${r.code}: ${r.stderr}`);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Wall time of one HTTP poll that misses (404): the granularity of "served yet?". */
export async function httpMissOverhead(host: TestHost, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fetchImage(host, `no-such-file-${i}.bin`);
    out.push(performance.now() - t0);
  }
  return out;
}

// ---------------------------------------------------------------- propagation

export interface PropagationSample {
  readonly name: string;
  /** From just before the write's exec to the moment the last watcher served it intact. */
  readonly totalMs: number;
  /** Per watcher (nginx host) name: ms from t0 until it served the file intact. */
  readonly servedMs: Record<string, number>;
  /** ms from t0 until the write had closed the file (inside the source host). */
  readonly writtenMs: number;
  /** ms from t0 until the relay host had the complete file under its final name. */
  readonly relayMs?: number;
  /** ms from t0 until the command run after the write (the floor's rsync) returned. */
  readonly afterWriteMs?: number;
}

export interface PropagationOptions {
  readonly hosts: TestCluster;
  readonly source: TestHost;
  /** nginx hosts polled over HTTP; the sample ends when all of them serve it byte-identical */
  readonly watchers: readonly TestHost[];
  /** a host without nginx on the way (the exchange) watched from inside for the hop split */
  readonly relay?: TestHost;
  readonly name: string;
  readonly data: Buffer;
  /** shell run inside the source host right after the write closed the file */
  readonly afterWrite?: string;
  /** then, once the source's exec returned, shell run inside this host (relay-floor's second hop) */
  readonly thenOn?: { readonly host: TestHost; readonly cmd: string };
  readonly pollMs?: number;
  readonly timeoutMs?: number;
}

/** Watch for a file of a given size from inside a host; resolves with the stamp (ms). */
function watchFromInside(hosts: TestCluster, host: TestHost, path: string, size: number, timeoutMs: number): Promise<number | undefined> {
  const script =
    `use Time::HiRes qw(time sleep); my ($f, $n, $t) = @ARGV; my $end = time + $t;` +
    ` until ((-s $f // -1) == $n) { exit 3 if time > $end; sleep 0.002 } printf "%.3f\\n", time*1000;`;
  return hosts
    .exec(host, `perl -e '${script}' ${path} ${size} ${timeoutMs / 1000}`, { timeoutMs: timeoutMs + 5000 })
    .then((r) => (r.code === 0 ? Number(r.stdout.trim()) : undefined));
}

async function pollServed(host: TestHost, name: string, data: Buffer, t0: number, deadline: number, pollMs: number): Promise<number> {
  for (;;) {
    const got = await fetchImage(host, name);
    const now = Date.now();
    if (got?.equals(data)) return now - t0;
    if (now > deadline) throw new Error(`${name} not served intact by ${host.name} within ${deadline - t0} ms`);
    await sleep(pollMs);
  }
}

export async function propagationSample(o: PropagationOptions): Promise<PropagationSample> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const pollMs = o.pollMs ?? 10;
  const path = `${SYNC_DIR}/${o.name}`;
  const relay = o.relay ? watchFromInside(o.hosts, o.relay, path, o.data.length, timeoutMs) : undefined;
  if (relay) await sleep(80); // let the in-host watcher start (an exec costs ~20-40 ms) before the write
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  // One exec, like an application: open, write, close (base64 -d writes in chunks).
  const cmd = [`base64 -d > ${path}`, STAMP, ...(o.afterWrite ? [o.afterWrite, STAMP] : [])].join(" && ");
  const write = run(o.hosts, o.source, cmd, o.data.toString("base64"));
  const second = o.thenOn ? write.then(() => run(o.hosts, o.thenOn!.host, o.thenOn!.cmd)) : undefined;
  second?.catch(() => undefined); // awaited below
  // A failed write or second hop is the error to report, not the wait for a file that cannot come.
  const settledOnlyByFailure = (p: Promise<unknown>): Promise<never> => p.then(() => new Promise<never>(() => undefined));
  const served = await Promise.race([
    Promise.all(o.watchers.map((w) => pollServed(w, o.name, o.data, t0, deadline, pollMs))),
    settledOnlyByFailure(write),
    ...(second ? [settledOnlyByFailure(second)] : []),
  ]);
  await second;
  const stamps = (await write).trim().split("\n").map(Number);
  const relayStamp = relay ? await relay : undefined;
  return {
    name: o.name,
    totalMs: Math.max(...served),
    servedMs: Object.fromEntries(o.watchers.map((w, i) => [w.name, served[i]])),
    writtenMs: stamps[0] - t0,
    relayMs: relayStamp === undefined ? undefined : relayStamp - t0,
    afterWriteMs: stamps.length > 1 ? stamps[1] - t0 : undefined,
  };
}

// ---------------------------------------------------------------- burst

export interface BurstOptions {
  readonly hosts: TestCluster;
  readonly source: TestHost;
  /** hosts that must end up with every file */
  readonly targets: readonly TestHost[];
  /** file names are `<prefix>-NNNN.bin` in the sync dir */
  readonly prefix: string;
  /** a directory the writer makes first (the files go into it), as an upload into a new album does */
  readonly newDir?: string;
  /**
   * How the writer puts each file in: "inPlace" (open the final name, write, close; what
   * most upload code does, so it waits for the quiet period) or "rename" (write a hidden
   * temp name in the same directory, then rename it in: pushed at once, README "Writers").
   */
  readonly writer?: "inPlace" | "rename";
  readonly files: number;
  readonly bytes: number;
  /** shell run inside the source host right after the last file was closed */
  readonly afterWrite?: string;
  /** then, once the source's exec returned, shell run inside this host (relay-floor's second hop) */
  readonly thenOn?: { readonly host: TestHost; readonly cmd: string };
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  /** called right before t0 and right after convergence (CPU accounting) */
  readonly around?: { before(): void; after(): void };
}

export interface BurstResult {
  readonly files: number;
  readonly bytesEach: number;
  /** from just before the writer's exec until every target had every file with matching sha256 */
  readonly seconds: number;
  /** seconds the writer took to write and close all files (inside the source host) */
  readonly writeSeconds: number;
  /** seconds until the command after the write (the floor's rsync) returned */
  readonly afterWriteSeconds?: number;
  /** per target: seconds until it had all files at full size */
  readonly perHostSeconds: Record<string, number>;
  readonly checksumRounds: number;
  /** user+sys CPU of the processes the writer's exec ran (perl, and the floor's rsync + ssh client) */
  readonly writerExecCpuSeconds: number;
  /** user+sys CPU of the `thenOn` exec (relay-floor's hop-2 senders), which no host tree sees */
  readonly thenOnExecCpuSeconds?: number;
}

/**
 * CPU seconds the whole cluster spent on a burst: every host's process tree plus the
 * benchmark execs that did the hosts' work (the writer, the floors' rsync senders), so a
 * profile whose senders run in a benchmark exec is not made to look cheaper than lsyncd.
 */
export function burstClusterCpuSeconds(b: Pick<BurstResult, "writerExecCpuSeconds" | "thenOnExecCpuSeconds">, cpu: CpuUsage): number {
  return cpu.hostsTotalSeconds + b.writerExecCpuSeconds + (b.thenOnExecCpuSeconds ?? 0);
}

/** bash `times`: line 1 the shell, line 2 its children, as "0m0.123s 0m0.045s". */
function parseTimesChildren(text: string): number {
  const line = text.trim().split("\n")[1] ?? "";
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
}

const SRC = "/tmp/lsc-bench-burst.src";

/**
 * Files of the burst at full size on `host`, read in-process through the host's root
 * (/proc/<its init>/root sees its mount namespace): polling must not steal the CPU the
 * hosts compete for (an exec per host per poll cost ~1 CPU-s per burst, measured). A
 * file only gets its final name once complete (rsync renames it into place), so names
 * are counted first and sizes checked only once all are there; the checksums after
 * convergence prove the contents anyway.
 */
function countComplete(o: BurstOptions, host: TestHost): number {
  const dir = `/proc/${host.initPid}/root${burstDir(o)}`;
  const prefix = `${o.prefix}-`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0; // the new directory has not reached this host yet
  }
  const names = entries.filter((name) => name.startsWith(prefix) && name.endsWith(".bin"));
  if (names.length < o.files) return names.length;
  let n = 0;
  for (const name of names) {
    try {
      if (statSync(`${dir}/${name}`).size === o.bytes) n++;
    } catch {
      // renamed or deleted between readdir and stat
    }
  }
  return n;
}

/** Where the burst's files are: the sync dir, or the new directory in it. */
function burstDir(o: Pick<BurstOptions, "newDir">): string {
  return o.newDir === undefined ? SYNC_DIR : `${SYNC_DIR}/${o.newDir}`;
}

async function sums(o: BurstOptions, host: TestHost): Promise<string> {
  return run(o.hosts, host, `cd ${burstDir(o)} && ls -1 | grep -E '^${o.prefix}-[0-9]+\\.bin$' | sort | xargs -r sha256sum`);
}

export async function burst(o: BurstOptions): Promise<BurstResult> {
  const pollMs = o.pollMs ?? 50;
  const timeoutMs = o.timeoutMs ?? 300_000;
  // The random source is made before t0, outside the sync dir: the timed writer only copies
  // distinct 50 kB slices of it into new files (open, write, close each).
  await run(o.hosts, o.source, `head -c ${o.files * o.bytes} /dev/urandom > ${SRC}`);
  const writer =
    `use Time::HiRes qw(time); my ($src, $dir, $p, $n, $size) = @ARGV; open(my $in, "<", $src) or die "$src: $!"; binmode $in;` +
    ` for my $i (0 .. $n - 1) { read($in, my $buf, $size) == $size or die "short read"; my $f = sprintf("%s/%s-%04d.bin", $dir, $p, $i);` +
    (o.writer === "rename"
      ? ` my $t = sprintf("%s/.%s-%04d.bin.part", $dir, $p, $i); open(my $out, ">", $t) or die "$t: $!"; binmode $out; print $out $buf; close($out) or die "$t: $!"; rename($t, $f) or die "$f: $!" }`
      : ` open(my $out, ">", $f) or die "$f: $!"; binmode $out; print $out $buf; close($out) or die "$f: $!" }`) +
    ` printf "%.3f\\n", time*1000;`;
  // `times` at the end: CPU of the writer (and the floor's rsync) run by this exec, whose
  // processes are reaped outside the host and so escape the per-host accounting.
  const mkdir = o.newDir === undefined ? [] : [`mkdir ${burstDir(o)}`];
  const cmd = `${[...mkdir, `perl -e '${writer}' ${SRC} ${burstDir(o)} ${o.prefix} ${o.files} ${o.bytes}`, ...(o.afterWrite ? [o.afterWrite, STAMP] : [])].join(" && ")} && echo TIMES && times`;
  o.around?.before();
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  const write = run(o.hosts, o.source, cmd);
  write.catch(() => undefined); // awaited below; keep an early failure from being unhandled
  // `times` again: the hop-2 senders are reaped outside every host, as the writer's are.
  const second = o.thenOn ? write.then(() => run(o.hosts, o.thenOn!.host, `{ ${o.thenOn!.cmd}; } && echo TIMES && times`)) : undefined;
  second?.catch(() => undefined);
  const perHost: Record<string, number> = {};
  let writeOut: string | undefined;
  void write.then((s) => (writeOut = s));
  for (;;) {
    const pending = o.targets.filter((h) => perHost[h.name] === undefined);
    const counts = pending.map((h) => countComplete(o, h));
    const now = Date.now();
    pending.forEach((h, i) => {
      if (counts[i] === o.files) perHost[h.name] = (now - t0) / 1000;
    });
    if (o.targets.every((h) => perHost[h.name] !== undefined)) break;
    if (now > deadline)
      throw new Error(
        `burst ${o.prefix}: not converged within ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(pending.map((h, i) => [h.name, counts[i]])))}`,
      );
    await sleep(pollMs);
  }
  // Every file is there at full size; now prove the contents, and keep waiting if any differ.
  await write;
  const secondOut = await second;
  const want = await sums(o, o.source);
  if (want.trim().split("\n").length !== o.files)
    throw new Error(`burst ${o.prefix}: the writer made ${want.trim().split("\n").length} files, not ${o.files}`);
  let rounds = 0;
  let converged = Math.max(...Object.values(perHost));
  for (;;) {
    rounds++;
    const got = await Promise.all(o.targets.map((h) => sums(o, h)));
    if (got.every((g) => g === want)) break;
    if (Date.now() > deadline) throw new Error(`burst ${o.prefix}: checksums still differ after ${timeoutMs} ms`);
    await sleep(pollMs);
    converged = (Date.now() - t0) / 1000;
  }
  o.around?.after();
  const [stampText, timesText = ""] = (writeOut ?? (await write)).split("TIMES\n");
  const stamps = stampText.trim().split("\n").map(Number);
  await run(o.hosts, o.source, `rm -f ${SRC}`);
  return {
    files: o.files,
    bytesEach: o.bytes,
    seconds: converged,
    writeSeconds: (stamps[0] - t0) / 1000,
    afterWriteSeconds: stamps.length > 1 ? (stamps[1] - t0) / 1000 : undefined,
    perHostSeconds: perHost,
    checksumRounds: rounds,
    writerExecCpuSeconds: parseTimesChildren(timesText),
    thenOnExecCpuSeconds: secondOut === undefined ? undefined : parseTimesChildren(secondOut.split("TIMES\n")[1] ?? ""),
  };
}

// ---------------------------------------------------------------- CPU

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface CpuSnapshot {
  /** outer pid → [utime+stime, cutime+cstime] in seconds */
  readonly lsyncd: Map<number, readonly [number, number]>;
  /**
   * host name → CPU seconds of its whole process tree: every live process's own time plus
   * what it reaped from its children (sshd sessions with their rsync receivers, lsyncd's
   * rsync senders, ssh masters, nginx, ...). Processes of the benchmark's own execs are
   * reaped outside the host and are not in it.
   */
  readonly hosts: Map<string, number>;
  /** CPU seconds by kind of work, summed over all hosts (see cpuKind) */
  readonly kinds: Map<CpuKind, number>;
  /** this benchmark process and everything it reaped (nsenter execs, ssh, their children) */
  readonly harness: number;
  /** whole machine: busy seconds summed over all CPUs (/proc/stat) */
  readonly machineBusy: number;
  /** Date.now() of the snapshot */
  readonly at: number;
}

function procTimes(pid: number): readonly [number, number] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after "(comm)": state=0 ... utime=11 stime=12 cutime=13 cstime=14
    return [(Number(f[11]) + Number(f[12])) / CLK_TCK, (Number(f[13]) + Number(f[14])) / CLK_TCK];
  } catch {
    return undefined;
  }
}

function machineBusySeconds(): number {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / CLK_TCK;
}

export const CPU_KINDS = [
  "lsyncd itself (Lua, inotify)",
  "rsync senders (lsyncd's children)",
  "receivers (sshd sessions: rsync daemon)",
  "ssh masters (sender-side crypto)",
  "other (nginx, init, ...)",
] as const;
export type CpuKind = (typeof CPU_KINDS)[number];

/** Which kind of work a process's own time ([0]) and its reaped children's time ([1]) are. */
function cpuKinds(comm: string): readonly [CpuKind, CpuKind] {
  if (comm === "lsyncd") return [CPU_KINDS[0], CPU_KINDS[1]];
  if (comm === "sshd") return [CPU_KINDS[2], CPU_KINDS[2]];
  if (comm === "ssh") return [CPU_KINDS[3], CPU_KINDS[3]];
  if (comm === "rsync") return [CPU_KINDS[1], CPU_KINDS[1]]; // live at the snapshot: counted as sender work
  return [CPU_KINDS[4], CPU_KINDS[4]];
}

export function cpuSnapshot(hosts: TestCluster): CpuSnapshot {
  const lsyncd = new Map<number, readonly [number, number]>();
  const perHost = new Map<string, number>();
  const kinds = new Map<CpuKind, number>(CPU_KINDS.map((k) => [k, 0]));
  for (const h of hosts.hosts) {
    let tree = 0;
    for (const p of hosts.processes(h)) {
      const t = procTimes(p.pid);
      if (!t) continue;
      tree += t[0] + t[1];
      const [own, children] = cpuKinds(p.comm);
      kinds.set(own, kinds.get(own)! + t[0]);
      kinds.set(children, kinds.get(children)! + t[1]);
      if (p.comm === "lsyncd") lsyncd.set(p.pid, t);
    }
    perHost.set(h.name, tree);
  }
  const self = procTimes(process.pid) ?? [0, 0];
  return { lsyncd, hosts: perHost, kinds, harness: self[0] + self[1], machineBusy: machineBusySeconds(), at: Date.now() };
}

export interface CpuUsage {
  /** utime+stime of the lsyncd processes on all hosts */
  readonly lsyncdSeconds: number;
  /** cutime+cstime gained by them: the rsync/ssh children they waited for */
  readonly lsyncdChildrenSeconds: number;
  /** per host: CPU of its whole process tree (see CpuSnapshot.hosts) */
  readonly hostSeconds: Record<string, number>;
  /** sum of hostSeconds */
  readonly hostsTotalSeconds: number;
  /** hostsTotalSeconds split by kind of work */
  readonly kindSeconds: Record<string, number>;
  /** busy CPU seconds of the whole machine (includes the benchmark's own polling and anything else running) */
  readonly machineSeconds: number;
  /** the benchmark process and its execs (polling, writes, the floor's rsync) */
  readonly harnessSeconds: number;
  /** machine − hosts − harness: whatever else ran on this machine meanwhile */
  readonly otherSeconds: number;
  /** otherSeconds per wall second: how many CPUs something else took on average */
  readonly otherCpus: number;
  /** lsyncd processes that were not alive at both snapshots (restarts distort the sum) */
  readonly restarted: number;
}

export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  let own = 0;
  let children = 0;
  let restarted = 0;
  for (const [pid, [a0, c0]] of after.lsyncd) {
    const b = before.lsyncd.get(pid);
    if (!b) restarted++;
    own += a0 - (b?.[0] ?? 0);
    children += c0 - (b?.[1] ?? 0);
  }
  for (const pid of before.lsyncd.keys()) if (!after.lsyncd.has(pid)) restarted++;
  const hostSeconds: Record<string, number> = {};
  for (const [name, t] of after.hosts) hostSeconds[name] = Math.max(0, t - (before.hosts.get(name) ?? 0));
  const hostsTotalSeconds = Object.values(hostSeconds).reduce((a, b) => a + b, 0);
  const machineSeconds = after.machineBusy - before.machineBusy;
  const harnessSeconds = after.harness - before.harness;
  const otherSeconds = Math.max(0, machineSeconds - hostsTotalSeconds - harnessSeconds);
  const wall = Math.max(0.001, (after.at - before.at) / 1000);
  const kindSeconds: Record<string, number> = {};
  for (const k of CPU_KINDS) kindSeconds[k] = Math.max(0, (after.kinds.get(k) ?? 0) - (before.kinds.get(k) ?? 0));
  return {
    lsyncdSeconds: own,
    lsyncdChildrenSeconds: children,
    hostSeconds,
    hostsTotalSeconds,
    kindSeconds,
    machineSeconds,
    harnessSeconds,
    otherSeconds,
    otherCpus: otherSeconds / wall,
    restarted,
  };
}

// ---------------------------------------------------------------- lsyncd log

/** Size of every host's lsyncd log now: where to start counting. */
export async function logOffsets(hosts: TestCluster): Promise<Map<string, number>> {
  const sizes = await Promise.all(
    hosts.hosts.map(async (h) => Number((await run(hosts, h, `stat -c %s ${LSYNCD_LOG} 2>/dev/null || echo 0`)).trim())),
  );
  return new Map(hosts.hosts.map((h, i) => [h.name, sizes[i]]));
}

export interface LogCounts {
  /** rsync runs lsyncd started ("Calling rsync" lines) */
  readonly rsyncRuns: number;
  /** lists and startups lsyncd had to retry, by rsync exit code ("Retrying ... 12") */
  readonly retries: Record<string, number>;
}

/** What every host's lsyncd logged since `offsets`, summed over hosts. */
export async function lsyncdLogCounts(hosts: TestCluster, offsets: Map<string, number>): Promise<LogCounts> {
  let rsyncRuns = 0;
  const retries: Record<string, number> = {};
  for (const h of hosts.hosts) {
    const text = await run(
      hosts,
      h,
      `tail -c +${(offsets.get(h.name) ?? 0) + 1} ${LSYNCD_LOG} 2>/dev/null | grep -E 'Calling rsync|Retrying' || true`,
    );
    for (const line of text.split("\n")) {
      if (line.includes("Calling rsync")) rsyncRuns++;
      const m = /Retrying.*?(\d+)\s*$/.exec(line);
      if (m) retries[m[1]] = (retries[m[1]] ?? 0) + 1;
    }
  }
  return { rsyncRuns, retries };
}

// ---------------------------------------------------------------- fixed cost of one rsync run

export interface RsyncRunCost {
  readonly runs: number;
  /** wall ms per run */
  readonly wallMs: number;
  /** CPU seconds per run: sender exec + both hosts' process trees (ssh master, sshd, receiving rsync) */
  readonly cpuSeconds: number;
}

/**
 * What one lsyncd-style rsync run costs when it transfers nothing (the file is already
 * there, same size and mtime): the fixed price of every batch and every echo. Sequential
 * runs from `from` to `to` over the deployed ssh setup (ControlMaster, forced rsync daemon).
 */
export async function rsyncRunCost(hosts: TestCluster, from: TestHost, to: TestHost, file: string, runs: number): Promise<RsyncRunCost> {
  const cmd =
    `for i in $(seq ${runs}); do rsync ${DAEMON_ARCHIVE} --whole-file -e "ssh -F ${SSH_CONFIG}" ${SYNC_DIR}/${file} ${targetOf(to.name)} || exit 1; done;` +
    ` echo TIMES; times`;
  await run(hosts, from, cmd.replace(/seq \d+/, "seq 1")); // open the ssh master first
  const before = cpuSnapshot(hosts);
  const t0 = Date.now();
  const out = await run(hosts, from, cmd);
  const wall = Date.now() - t0;
  const after = cpuSnapshot(hosts);
  const used = cpuUsed(before, after);
  const execCpu = parseTimesChildren(out.split("TIMES\n")[1] ?? "");
  return { runs, wallMs: wall / runs, cpuSeconds: (used.hostsTotalSeconds + execCpu) / runs };
}

// ---------------------------------------------------------------- idle cost

export interface IdleCost {
  readonly seconds: number;
  /** per host: percent of one CPU its processes used while nothing was written */
  readonly hostCpuPercent: Record<string, number>;
  /** the same for the lsyncd processes alone, averaged over hosts */
  readonly lsyncdCpuPercent: number;
  /** processes that started or ended inside the hosts during the window (their time is partly missing) */
  readonly processesChanged: number;
  /** average CPUs used by everything else on this machine meanwhile (how loaded it was) */
  readonly otherCpus: number;
}

/** ns a process has spent on a CPU (/proc/<pid>/schedstat: the scheduler's own count, not ticks). */
function runtimeNs(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
}

/**
 * CPU of an idle cluster: nothing is written for `seconds`; every process in every host
 * (lsyncd and its heartbeat alarm, sshd and the ssh masters, nginx, init) is read at both
 * ends from the scheduler's nanosecond runtime. /proc/<pid>/stat's utime and stime are
 * 10 ms ticks charged to whoever runs when a tick lands, and a daemon that wakes for 50 µs
 * every 10 s is almost never caught: an idle minute read as exactly 0.
 */
export async function idleCost(hosts: TestCluster, seconds: number): Promise<IdleCost> {
  const snap = () =>
    new Map(hosts.hosts.map((h) => [h.name, new Map(hosts.processes(h).map((p) => [p.pid, { comm: p.comm, ns: runtimeNs(p.pid) ?? 0 }]))]));
  const cpuBefore = cpuSnapshot(hosts);
  const t0 = Date.now();
  const before = snap();
  await sleep(seconds * 1000);
  const after = snap();
  const wall = (Date.now() - t0) / 1000;
  const used = cpuUsed(cpuBefore, cpuSnapshot(hosts));
  const hostCpuPercent: Record<string, number> = {};
  let lsyncdNs = 0;
  let changed = 0;
  for (const h of hosts.hosts) {
    const b = before.get(h.name)!;
    const a = after.get(h.name)!;
    let ns = 0;
    for (const [pid, p] of a) {
      const was = b.get(pid);
      if (!was) changed++;
      const d = p.ns - (was?.ns ?? 0);
      ns += d;
      if (p.comm === "lsyncd") lsyncdNs += d;
    }
    for (const pid of b.keys()) if (!a.has(pid)) changed++;
    hostCpuPercent[h.name] = (100 * ns) / 1e9 / wall;
  }
  return {
    seconds: wall,
    hostCpuPercent,
    lsyncdCpuPercent: (100 * lsyncdNs) / 1e9 / wall / hosts.hosts.length,
    processesChanged: changed,
    otherCpus: used.otherCpus,
  };
}
