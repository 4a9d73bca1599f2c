// The program on the real Pulumi engine, for tests: a project directory with the repo's
// Pulumi.yaml, a stack made with the real CLI the way the README tells a user (stack init,
// the key set with `config set --secret`, the rest written into Pulumi.<stack>.yaml), a
// local file backend, and `npm run pulumi` (tools/pulumi.ts) for preview, up, refresh and
// destroy. Nothing here models the engine: every plan and every step comes from the CLI.
import { execFileSync, spawn } from "child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { join } from "path";

const REPO = join(__dirname, "..", "..");

export type EngineOperation = "preview" | "up" | "refresh" | "destroy";

/** One resource's planned (preview) or performed (up) operation, as the engine reported it. */
export interface ResourceEvent {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
}

export interface EngineRun {
  readonly code: number;
  /** What the CLI printed (the same text a user sees). */
  readonly output: string;
  /** Operation counts from the engine's summary, e.g. { same: 41 } or { create: 9, update: 2, same: 30 }. */
  readonly summary: Record<string, number>;
  readonly events: ResourceEvent[];
  readonly ms: number;
}

/** The step name a URN ends in, e.g. "lsyncd-mesh-node01-trust". */
export function urnName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/** The toolchain's bin dir (toolchain/build.sh builds it once; later calls take a second). */
export function toolchainBin(): string {
  const out = execFileSync("bash", [join(REPO, "toolchain", "build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return out.trim().split("\n").pop()!;
}

/** A small YAML writer for stack config: maps, lists, strings, numbers and booleans. */
export function toYaml(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return " []\n";
    return `\n${value.map((v) => `${indent}- ${toYaml(v, `${indent}  `).replace(/^\n\s*/, "")}`).join("")}`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return " {}\n";
    return `\n${entries.map(([k, v]) => `${indent}${k}:${toYaml(v, `${indent}  `)}`).join("")}`;
  }
  return ` ${JSON.stringify(value)}\n`;
}

export class EngineStack {
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private secretBlock = "";
  private salt = "";

  constructor(
    root: string,
    readonly stack: string,
    private readonly bin: string,
  ) {
    rmSync(root, { recursive: true, force: true });
    this.dir = join(root, "project");
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(join(root, "state"));
    cpSync(join(REPO, "Pulumi.yaml"), join(this.dir, "Pulumi.yaml"));
    // The dynamic-provider launcher resolves @pulumi/pulumi from the project directory.
    symlinkSync(join(REPO, "node_modules"), join(this.dir, "node_modules"));
    this.env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      PULUMI_BACKEND_URL: `file://${join(root, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "lsyncd-cluster engine test",
      PULUMI_HOME: join(root, "pulumi-home"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      // Never reach for a plugin download: this machine has no such network, and a test
      // must show what is missing rather than wait for it.
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      LSC_PULUMI_BIN: bin,
    };
  }

  get stackFile(): string {
    return join(this.dir, `Pulumi.${this.stack}.yaml`);
  }

  /** `pulumi stack init` and `pulumi config set --secret lsyncd-cluster:sshPrivateKey`, as a user would. */
  init(sshPrivateKey?: string): void {
    this.cli(["stack", "init", this.stack]);
    if (sshPrivateKey === undefined) {
      // A secrets provider is set up on first use; make it so, for the same file shape.
      this.cli(["config", "set", "--secret", "lsyncd-cluster:unused", "x"]);
      this.cli(["config", "rm", "lsyncd-cluster:unused"]);
      this.salt = /^encryptionsalt: .*\n/m.exec(readFileSync(this.stackFile, "utf8"))?.[0] ?? "";
      return;
    }
    this.cli(["config", "set", "--secret", "lsyncd-cluster:sshPrivateKey"], sshPrivateKey);
    const text = readFileSync(this.stackFile, "utf8");
    this.salt = /^encryptionsalt: .*\n/m.exec(text)?.[0] ?? "";
    const secret = /^ {2}lsyncd-cluster:sshPrivateKey:\n(?: {4}.*\n)+/m.exec(text)?.[0];
    if (!secret) throw new Error(`no encrypted sshPrivateKey in ${this.stackFile}:\n${text}`);
    this.secretBlock = secret;
  }

  /** Rewrite the stack file's plain keys (bare names of the lsyncd-cluster namespace). */
  writeConfig(config: Record<string, unknown>): void {
    const lines = Object.entries(config)
      .map(([k, v]) => `  lsyncd-cluster:${k}:${toYaml(v, "    ")}`)
      .join("");
    writeFileSync(this.stackFile, `${this.salt}config:\n${lines}${this.secretBlock}`);
  }

  /** The real CLI, for what needs no program (stack init, config, stack output). */
  cli(args: string[], input?: string): string {
    return execFileSync(join(this.bin, "pulumi"), [...args, "--non-interactive"], {
      cwd: this.dir,
      env: this.env,
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  /**
   * `npm run pulumi -- <operation>`. `runnerRoot` runs another copy of the program (a newer
   * version of it, say) against the same stack.
   */
  run(operation: EngineOperation, flags: string[] = [], runnerRoot = REPO): Promise<EngineRun> {
    const summaryFile = join(this.dir, `.summary-${process.pid}.json`);
    const eventsFile = join(this.dir, `.events-${process.pid}.jsonl`);
    rmSync(summaryFile, { force: true });
    const args = [
      join(runnerRoot, "node_modules", ".bin", "ts-node"),
      "--transpile-only",
      join(runnerRoot, "tools", "pulumi.ts"),
      operation,
      "--stack",
      this.stack,
      "--cwd",
      this.dir,
      "--summary-file",
      summaryFile,
      "--events-file",
      eventsFile,
      ...(operation === "preview" ? [] : ["--yes"]),
      ...flags,
    ];
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: runnerRoot, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      child.on("error", reject);
      child.on("close", (code) => {
        const summary = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, "utf8")) as Record<string, number>) : {};
        const events = existsSync(eventsFile)
          ? readFileSync(eventsFile, "utf8")
              .split("\n")
              .filter(Boolean)
              .map((l) => JSON.parse(l) as ResourceEvent)
          : [];
        resolve({ code: code ?? 1, output, summary, events, ms: Date.now() - t0 });
      });
    });
  }
}

/** Operations on steps (RemoteStep resources) only, by step name. */
export function stepOps(run: EngineRun): Map<string, string> {
  return new Map(run.events.filter((e) => e.type.endsWith(":RemoteStep")).map((e) => [urnName(e.urn), e.op] as const));
}
