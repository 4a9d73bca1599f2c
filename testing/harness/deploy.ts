// Runs the real program (index.ts) with Pulumi mocks whose RemoteStep executes its
// `create` over real SSH with the resource's own connection, in the order the engine
// would (a resource registers only after everything it depends on). Every command run is
// recorded; `destroy` replays the deletes in reverse order of creation.
import * as pulumi from "@pulumi/pulumi";
import { installMocks, Recorder, urnName, waitForRegistrations } from "../pulumiMocks";
import { REMOTE_STEP_TYPE } from "../../components/remoteStep";
import { runSsh, stepRun } from "../../components/remote/provider";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface Connection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  readonly hostKey?: string;
}

export interface RanCommand {
  readonly name: string;
  readonly host: string;
  readonly phase: "create" | "delete";
  readonly command: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Names of the commands this one waited for (from the mock's dependency record). */
  readonly after: readonly string[];
}

export interface Step {
  readonly name: string;
  readonly connection: Connection;
  readonly create: string;
  readonly delete: string;
}

export interface Deployment {
  readonly outputs: Record<string, unknown>;
  readonly ran: RanCommand[];
  /** Steps in the order their create finished. */
  readonly steps: Step[];
  readonly wallMs: number;
}

export class CommandFailed extends Error {
  constructor(public readonly ran: RanCommand) {
    super(`${ran.phase} of ${ran.name} on ${ran.host} exited ${ran.code}:\n${ran.stderr.slice(-2000)}`);
  }
}

function unwrapSecret<T>(value: any): T {
  return value && typeof value === "object" && SECRET_SIG in value ? (value.value as T) : (value as T);
}

/** Run one command over SSH exactly as the step provider does (its own code, pinned host key). */
export function sshExec(conn: Connection, command: string, timeoutMs = 600_000): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!conn.hostKey) throw new Error(`no host key for ${conn.host}: the test harness pins every host, as the program does`);
  return runSsh({ ...conn, hostKey: conn.hostKey }, command, Math.ceil(timeoutMs / 1000));
}

function indexModulePath(): string {
  return require.resolve("../../index");
}

/**
 * Evaluate index.ts anew, as each `pulumi up` does. Under jest, require() goes through
 * jest's own module registry, so a fresh copy needs isolateModules; elsewhere (demo,
 * bench under ts-node) dropping it from require.cache is enough.
 */
function loadIndexFresh(): Record<string, unknown> {
  let exports: Record<string, unknown> = {};
  if (typeof jest !== "undefined") {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exports = require(indexModulePath());
    });
  } else {
    delete require.cache[indexModulePath()];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(indexModulePath());
  }
  return exports;
}

/**
 * Build the program from `config` (bare keys of the lsyncd-cluster namespace) and run
 * every remote command for real. Throws CommandFailed on the first failing command.
 */
export async function deploy(
  config: Record<string, unknown>,
  sshPrivateKey: string,
  opts: { log?: (line: string) => void; /** filled as commands run, also when deploy throws */ ran?: RanCommand[] } = {},
): Promise<Deployment> {
  const ran: RanCommand[] = opts.ran ?? [];
  const steps: Step[] = [];
  const t0 = Date.now();
  let failure: CommandFailed | undefined;
  // Dependencies are known at registration, before newResource runs: the recorder has them.
  const recorder: Recorder = await installMocks({
    calls: {},
    newResource: async (args) => {
      if (args.type !== REMOTE_STEP_TYPE) return undefined;
      const conn = unwrapSecret<Connection>(args.inputs.connection);
      const create = String(args.inputs.create);
      const after = (recorder.registration(args.type, args.name)?.dependencies ?? []).map(urnName);
      const startMs = Date.now() - t0;
      opts.log?.(`→ ${args.name}`);
      // A step's first run, told so as the provider tells it.
      const command = stepRun(create, "create");
      const result = await sshExec(conn, command);
      const entry: RanCommand = {
        name: args.name,
        host: conn.host,
        phase: "create",
        command,
        ...result,
        startMs,
        endMs: Date.now() - t0,
        after,
      };
      ran.push(entry);
      if (result.code !== 0) {
        failure ??= new CommandFailed(entry);
        throw failure;
      }
      steps.push({ name: args.name, connection: conn, create, delete: String(args.inputs.delete) });
      opts.log?.(`✓ ${args.name} (${entry.endMs - startMs} ms)`);
      // As the provider does after every create: record what the probe sees.
      const probe = String(args.inputs.probe ?? "");
      const probed = probe === "" ? "" : (await sshExec(conn, probe)).stdout;
      return { stdout: result.stdout, probed, drifted: false };
    },
  });
  const all: Record<string, string> = { "lsyncd-cluster:sshPrivateKey": sshPrivateKey };
  for (const [k, v] of Object.entries(config)) all[`lsyncd-cluster:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(all, ["lsyncd-cluster:sshPrivateKey"]);

  const exports = loadIndexFresh();
  const outputs: Record<string, unknown> = {};
  try {
    await waitForRegistrations();
  } catch (e) {
    if (failure) throw failure;
    throw e;
  }
  if (failure) throw failure;
  for (const [k, v] of Object.entries(exports)) {
    if (v === undefined) continue;
    outputs[k] = await new Promise((done) => pulumi.output(v).apply((x: unknown) => done(x)));
  }
  return { outputs, ran, steps, wallMs: Date.now() - t0 };
}

/** Run every delete in reverse order of creation, as `pulumi destroy` would. */
export async function destroy(dep: Deployment): Promise<RanCommand[]> {
  const ran: RanCommand[] = [];
  const t0 = Date.now();
  for (const step of [...dep.steps].reverse()) {
    const startMs = Date.now() - t0;
    const result = await sshExec(step.connection, step.delete);
    const entry: RanCommand = {
      name: step.name,
      host: step.connection.host,
      phase: "delete",
      command: step.delete,
      ...result,
      startMs,
      endMs: Date.now() - t0,
      after: [],
    };
    ran.push(entry);
    if (result.code !== 0) throw new CommandFailed(entry);
  }
  return ran;
}

/** Run every create again as an update, sequentially in the original order (the "second run" check). */
export async function rerunCreates(dep: Deployment): Promise<RanCommand[]> {
  const ran: RanCommand[] = [];
  for (const step of dep.steps) {
    // What the provider runs on an update: the same script, told it is not the first run.
    const command = stepRun(step.create, "update");
    const result = await sshExec(step.connection, command);
    const entry: RanCommand = {
      name: step.name,
      host: step.connection.host,
      phase: "create",
      command,
      ...result,
      startMs: 0,
      endMs: 0,
      after: [],
    };
    ran.push(entry);
    if (result.code !== 0) throw new CommandFailed(entry);
  }
  return ran;
}

/** Longest chain of commands any command waited on (critical path length, in steps). */
export function longestChain(ran: readonly RanCommand[]): number {
  const byName = new Map(ran.map((r) => [r.name, r] as const));
  const memo = new Map<string, number>();
  const depth = (name: string): number => {
    if (memo.has(name)) return memo.get(name)!;
    const r = byName.get(name);
    const d = r ? 1 + Math.max(0, ...r.after.filter((a) => byName.has(a)).map(depth)) : 0;
    memo.set(name, d);
    return d;
  };
  return Math.max(0, ...ran.map((r) => depth(r.name)));
}
