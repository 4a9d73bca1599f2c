// The provider behind every remote step: run a script over SSH as create, update and
// delete, and a probe as read. It is a Pulumi dynamic provider, so it travels inside
// @pulumi/pulumi and needs no plugin besides the one every Pulumi CLI ships
// (pulumi-resource-pulumi-nodejs) — docs/architecture.md, "Why our own remote provider".
//
// Pulumi serializes this object into the state of every step and runs it from there in
// a separate process, so this file imports nothing but Node's built-in modules, and
// every helper it calls lives in this file.
import { spawn } from "child_process";
import { randomUUID } from "crypto";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

/** How the program reaches a host. */
export interface StepConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  /** "ssh-ed25519 AAAA...": the only key this host may present. Never empty. */
  readonly hostKey: string;
  /**
   * Which server answers at this address, where the program knows (an EC2 instance id). A
   * new server behind the same address and host key (an instance replaced behind its
   * Elastic IP) is an update of every step on it, so it is set up again.
   */
  readonly serverId?: string;
}

/** What one step stores in the stack: its inputs, plus what the host said. */
export interface StepState {
  readonly connection: StepConnection;
  /** Run on create and on every update; idempotent. */
  readonly create: string;
  /** Undoes create; runs on delete and, before the new create, on replace. */
  readonly delete: string;
  /** A change replaces the step (delete, then create); anything else is an in-place update. */
  readonly payload: string;
  /** Prints what the step put on the host; a different answer on refresh marks drift. */
  readonly probe: string;
  /** How long to keep dialing a host that refuses or drops SSH (a booting instance). */
  readonly dialSeconds: number;
  /** Longest a script may run before it is killed and the step fails. */
  readonly commandSeconds: number;
  readonly stdout?: string;
  readonly probed?: string;
  /** Set by refresh when the probe answers differently: the next `up` runs create again. */
  readonly drifted?: boolean;
  /**
   * Set by refresh when the host answered with another host key than the pinned one: the
   * server was rebuilt or replaced. A delete then has nothing of this step to undo there,
   * and never runs a script on a host it cannot verify.
   */
  readonly hostKeyChanged?: boolean;
}

const STDOUT_LIMIT = 256 * 1024;
/** ssh's own failures to reach the host, as opposed to the script's exit code 255. */
const DIAL_FAILURE =
  /ssh: connect to host|Connection refused|Connection timed out|Connection reset|No route to host|Network is unreachable|Connection closed by|kex_exchange_identification|Operation timed out|Could not resolve hostname/;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Temp dirs holding a key copy, removed at exit even when a step is still running. A plain
 * object, not a Set: Pulumi's closure serializer turns a captured Set into an object.
 */
const keyDirs: Record<string, true> = {};
const exitHook = { installed: false };

/** One SSH run of `command`; also what the test harness runs its steps with. */
export function runSsh(conn: StepConnection, command: string, commandSeconds: number): Promise<Ran> {
  // The key and the pinned host key go to files only this process can read, removed after.
  const dir = mkdtempSync(join(tmpdir(), "lsc-step-"));
  keyDirs[dir] = true;
  if (!exitHook.installed) {
    exitHook.installed = true;
    process.on("exit", () => Object.keys(keyDirs).forEach((d) => rmSync(d, { recursive: true, force: true })));
  }
  const keyFile = join(dir, "key");
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(keyFile, conn.privateKey.endsWith("\n") ? conn.privateKey : `${conn.privateKey}\n`, { mode: 0o600 });
  const hostPattern = conn.port === 22 ? conn.host : `[${conn.host}]:${conn.port}`;
  writeFileSync(knownHosts, `${hostPattern} ${conn.hostKey}\n`, { mode: 0o600 });
  const args = [
    "-T",
    "-F",
    "/dev/null",
    "-i",
    keyFile,
    "-p",
    String(conn.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=4",
    "-o",
    "LogLevel=ERROR",
    "--",
    `${conn.user}@${conn.host}`,
    // The host ends the script at the limit too: killing the local ssh alone would leave a
    // seed or an apt run going on the host, beside the next attempt.
    `timeout --kill-after=30 ${commandSeconds} ${command}`,
  ];
  return new Promise((resolve) => {
    const child = spawn("ssh", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      if (stdout.length < STDOUT_LIMIT) stdout += d.toString("utf8");
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString("utf8")).slice(-16_384);
    });
    const timer = setTimeout(
      () => {
        stderr += `\n(killed after ${commandSeconds} s)`;
        child.kill("SIGKILL");
      },
      (commandSeconds + 60) * 1000,
    );
    const finish = (code: number) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      delete keyDirs[dir];
      resolve({ code, stdout, stderr });
    };
    child.on("error", (e) => {
      stderr += String(e);
      finish(255);
    });
    child.on("close", (code) => finish(code ?? 255));
  });
}

/** Run `command`, dialing again while the host cannot be reached, up to dialSeconds. */
async function runOnHost(conn: StepConnection, command: string, dialSeconds: number, commandSeconds: number): Promise<Ran> {
  const deadline = Date.now() + dialSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    const ran = await runSsh(conn, command, commandSeconds);
    const unreachable = ran.code === 255 && DIAL_FAILURE.test(ran.stderr);
    if (!unreachable || Date.now() >= deadline) return ran;
    await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * attempt)));
  }
}

function isHostKeyMismatch(ran: Ran): boolean {
  return (
    ran.code === 255 &&
    /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No (ED25519|ECDSA|RSA) host key is known/.test(ran.stderr)
  );
}

function failure(what: "create" | "delete", conn: StepConnection, ran: Ran): Error {
  let hint = "";
  if (isHostKeyMismatch(ran)) {
    hint =
      what === "create"
        ? `\nThe host did not present the pinned host key: if the server was rebuilt, set its new hostKey in the stack config (README, "Recovering from mistakes").`
        : // A delete runs with the connection stored at the last up: config cannot change it.
          `\nThe host did not present the key pinned when this step was made. If the server was rebuilt or replaced, run \`pulumi refresh\` (it records that, and the delete then leaves that server alone); if it is gone for good, \`pulumi state delete\` the step (README, "Recovering from mistakes").`;
  }
  return new Error(`${what} on ${conn.user}@${conn.host}:${conn.port} exited ${ran.code}:\n${ran.stderr.trim().slice(-4000)}${hint}`);
}

/** Which run of a step's script this is: its first (the step is new), or any later one. */
export type StepRun = "create" | "update";

/**
 * The command for one run of a step's script. asRoot() makes every script `bash -c
 * <script>`, so the two words appended here are its $0 and $1: a script learns whether the
 * step is new, and may take a shortcut that is safe only then (seedScript.ts). Not an
 * input of the step: the kind of run never shows in a diff.
 */
export function stepRun(command: string, run: StepRun): string {
  return `${command} lsc-step ${run}`;
}

async function apply(state: StepState, run: StepRun): Promise<StepState> {
  const ran = await runOnHost(state.connection, stepRun(state.create, run), state.dialSeconds, state.commandSeconds);
  if (ran.code !== 0) throw failure("create", state.connection, ran);
  const { probed } = await probe(state);
  return { ...state, stdout: ran.stdout, probed, drifted: false, hostKeyChanged: false };
}

async function probe(state: StepState, dialSeconds = state.dialSeconds): Promise<{ probed: string; hostKeyChanged: boolean }> {
  // Even a step without a probe asks the host for its key on refresh.
  const ran = await runOnHost(state.connection, state.probe === "" ? "true" : state.probe, dialSeconds, state.commandSeconds);
  if (isHostKeyMismatch(ran)) return { probed: "host key changed", hostKeyChanged: true };
  if (state.probe === "") return { probed: "", hostKeyChanged: false };
  // A probe that cannot run is an answer too: the host lost what the step put there.
  return { probed: ran.code === 0 ? ran.stdout : `probe exited ${ran.code}`, hostKeyChanged: false };
}

function sameConnection(a: StepConnection, b: StepConnection): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.user === b.user &&
    a.privateKey === b.privateKey &&
    a.hostKey === b.hostKey &&
    (a.serverId ?? "") === (b.serverId ?? "")
  );
}

/** The fields whose change is an in-place update (create runs again). */
const UPDATED_BY = ["create", "delete", "probe", "dialSeconds", "commandSeconds"] as const;

export const remoteStepProvider = {
  async create(inputs: StepState) {
    return { id: randomUUID(), outs: await apply(inputs, "create") };
  },

  async diff(_id: string, olds: StepState, news: StepState) {
    // An unknown payload (preview, a data volume being replaced) may turn out different at
    // `up`: the preview shows the replace it may be rather than an update it may not be.
    const replaces = olds.payload !== news.payload ? ["payload"] : [];
    const changed = UPDATED_BY.filter((k) => olds[k] !== news[k]);
    const connectionChanged = !sameConnection(olds.connection, news.connection);
    const changes = replaces.length > 0 || changed.length > 0 || connectionChanged || olds.drifted === true;
    return { changes, replaces, deleteBeforeReplace: true };
  },

  async update(_id: string, _olds: StepState, news: StepState) {
    return { outs: await apply(news, "update") };
  },

  async delete(_id: string, olds: StepState) {
    // The state's own script and connection: the undo of what this step created, where it
    // created it. Guards inside the script (docs/architecture.md, "Deletes") keep it off
    // a server that another step of the cluster owns by now.
    const ran = await runOnHost(olds.connection, olds.delete, olds.dialSeconds, olds.commandSeconds);
    // Refresh saw this server answer with another host key (rebuilt, replaced): what the
    // step made there is gone with the old server, and nothing runs on an unverified host.
    if (olds.hostKeyChanged === true && isHostKeyMismatch(ran)) return;
    if (ran.code !== 0) throw failure("delete", olds.connection, ran);
  },

  async read(id: string, olds: StepState) {
    // `pulumi refresh`: ask the host whether what the step put there is still there. A
    // refresh dials briefly: a host that does not answer in a minute is reported, not awaited.
    const { probed, hostKeyChanged } = await probe(olds, Math.min(olds.dialSeconds, 60));
    const drifted = olds.drifted === true || hostKeyChanged || (olds.probe !== "" && probed !== (olds.probed ?? ""));
    return { id, props: { ...olds, drifted, hostKeyChanged } };
  },
};
