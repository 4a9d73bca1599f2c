// `npm run pulumi -- <preview|up|refresh|destroy> --stack NAME [options]`: the program on the
// real Pulumi engine where no Node.js language host (pulumi-language-nodejs) can be had.
//
// The CLI is the real one (toolchain/build.sh builds it from Go modules); the program runs
// through the Automation API's in-process language host, as every inline Automation API
// program does: the CLI gets `--client` and calls back into this process. It reads the
// Pulumi.yaml and the stack file of --cwd exactly as `pulumi up` would, with the same
// config check, backend and secrets provider (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE).
// With the official CLI, run `pulumi up` instead; nothing else differs.
import { EngineEvent, LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import { appendFileSync, writeFileSync } from "fs";
import { join, resolve } from "path";
import { stackProgram } from "../components/program";

const OPERATIONS = ["preview", "up", "refresh", "destroy"] as const;
type Operation = (typeof OPERATIONS)[number];

interface Options {
  readonly operation: Operation;
  readonly stack: string;
  readonly cwd: string;
  readonly refresh: boolean;
  readonly expectNoChanges: boolean;
  readonly diff: boolean;
  /** Write the engine's summary (operation counts) here as JSON. */
  readonly summaryFile?: string;
  readonly configFile?: string;
  /** Write each resource's planned or performed operation here, one JSON object per line. */
  readonly eventsFile?: string;
  /** Policy packs to run (preview and up), as `pulumi --policy-pack`. */
  readonly policyPacks: string[];
  /** up, refresh and destroy change things: like `pulumi --yes`, nothing happens without it. */
  readonly yes: boolean;
}

const USAGE = `usage: npm run pulumi -- <${OPERATIONS.join("|")}> --stack NAME [--cwd DIR] [--config-file FILE]
       [--refresh] [--expect-no-changes] [--diff] [--policy-pack DIR]... [--yes]
       [--summary-file FILE] [--events-file FILE]
up, refresh and destroy need --yes; without it, up shows the preview and stops.`;

function parseArgs(argv: readonly string[]): Options {
  const [operation, ...rest] = argv;
  if (!OPERATIONS.includes(operation as Operation)) throw new Error(`${USAGE}\nunknown operation "${operation ?? ""}"`);
  let stack: string | undefined;
  let cwd = process.cwd();
  let summaryFile: string | undefined;
  let configFile: string | undefined;
  let eventsFile: string | undefined;
  const policyPacks: string[] = [];
  const flags = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${USAGE}\n${a} needs a value`);
      return v;
    };
    if (a === "--stack" || a === "-s") stack = value();
    else if (a === "--cwd" || a === "-C") cwd = resolve(value());
    else if (a === "--summary-file") summaryFile = resolve(value());
    else if (a === "--config-file") configFile = resolve(value());
    else if (a === "--events-file") eventsFile = resolve(value());
    else if (a === "--policy-pack") policyPacks.push(resolve(value()));
    else if (["--refresh", "--expect-no-changes", "--diff", "--yes", "-y"].includes(a)) flags.add(a);
    else throw new Error(`${USAGE}\nunknown option "${a}"`);
  }
  if (!stack) throw new Error(`${USAGE}\n--stack is required`);
  return {
    operation: operation as Operation,
    stack,
    cwd,
    summaryFile,
    configFile,
    eventsFile,
    policyPacks,
    yes: flags.has("--yes") || flags.has("-y"),
    refresh: flags.has("--refresh"),
    expectNoChanges: flags.has("--expect-no-changes"),
    diff: flags.has("--diff"),
  };
}

/** The bin dir of the toolchain: PULUMI_HOME-independent, built on first use. */
function toolchainBin(): string {
  const script = join(__dirname, "..", "toolchain", "build.sh");
  const out = execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return out.trim().split("\n").pop()!;
}

/** index.ts exports every key; an undefined one (AWS-only, in existing-hosts mode) shows nowhere. */
function definedOutputs(outputs: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const bin = process.env.LSC_PULUMI_BIN ?? toolchainBin();
  // The CLI finds pulumi-resource-pulumi-nodejs (dynamic providers) on PATH.
  process.env.PATH = `${bin}:${process.env.PATH ?? ""}`;
  const pulumiCommand = await PulumiCommand.get({ root: join(bin, ".."), skipVersionCheck: false });
  const stack = await LocalWorkspace.selectStack(
    // projectName is only a fallback: the Pulumi.yaml in --cwd names the project.
    { stackName: opts.stack, projectName: "lsyncd-cluster", program: async () => definedOutputs(stackProgram()) },
    { workDir: opts.cwd, pulumiCommand },
  );
  if (opts.eventsFile) writeFileSync(opts.eventsFile, "");
  // Ctrl-C cancels the update the way the CLI does, instead of killing the language host
  // under a running deployment; a second Ctrl-C exits.
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write("\ncancelling (Ctrl-C again to exit at once) ...\n");
    void stack.cancel();
  });
  const common = {
    onOutput: (s: string) => process.stdout.write(s),
    onEvent: (e: EngineEvent) => {
      const pre = e.resourcePreEvent?.metadata;
      if (opts.eventsFile && pre) appendFileSync(opts.eventsFile, `${JSON.stringify({ op: pre.op, urn: pre.urn, type: pre.type })}\n`);
    },
    color: "never" as const,
    ...(opts.configFile ? { configFile: opts.configFile } : {}),
  };
  const policy = opts.policyPacks.length > 0 ? { policyPacks: opts.policyPacks } : {};
  let summary: unknown;
  if (opts.operation !== "preview" && !opts.yes) {
    if (opts.operation === "up") {
      await stack.preview({ ...common, ...policy, diff: opts.diff, refresh: opts.refresh });
    }
    throw new Error(
      `${opts.operation} changes the stack "${opts.stack}": run it again with --yes (as \`pulumi ${opts.operation} --yes\`).`,
    );
  }
  switch (opts.operation) {
    case "preview": {
      const r = await stack.preview({
        ...common,
        ...policy,
        diff: opts.diff,
        refresh: opts.refresh,
        expectNoChanges: opts.expectNoChanges,
      });
      summary = r.changeSummary;
      break;
    }
    case "up": {
      const r = await stack.up({ ...common, ...policy, diff: opts.diff, refresh: opts.refresh, expectNoChanges: opts.expectNoChanges });
      summary = r.summary.resourceChanges;
      break;
    }
    case "refresh": {
      const r = await stack.refresh({ ...common, expectNoChanges: opts.expectNoChanges });
      summary = r.summary.resourceChanges;
      break;
    }
    case "destroy": {
      const r = await stack.destroy({ ...common, refresh: opts.refresh });
      summary = r.summary.resourceChanges;
      break;
    }
  }
  if (opts.summaryFile) writeFileSync(opts.summaryFile, JSON.stringify(summary ?? {}, null, 2));
}

main().catch((e: unknown) => {
  // The CLI's own output has already been streamed; its error carries it again in full.
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${message.split("\n").slice(-40).join("\n")}\n`);
  process.exitCode = 1;
});
