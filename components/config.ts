// Raw stack config in, a ClusterSpec out, or ONE error listing every problem, each as
// `[key.path] <what is accepted>; got <value>`. Runs before any resource exists, so
// nothing touches a host while config is bad. Pure: no Pulumi import.
import type { z } from "zod";
import { SHOWS_VALUE, awsConfigSchema, existingConfigSchema } from "./configSchema";
import type { ClusterSpec } from "./spec";

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: readonly string[]) {
    super(["Invalid lsyncd-cluster config:", ...problems.map((problem) => `  - ${problem}`)].join("\n"));
    this.name = "ConfigError";
    this.problems = [...problems];
  }
}

/** Parses bare keys (`nodeCount`, not `lsyncd-cluster:nodeCount`); `hosts` selects existing-hosts mode. */
export function parseClusterConfig(raw: Record<string, unknown>): ClusterSpec {
  const mode: ClusterSpec["mode"] = raw["hosts"] === undefined ? "aws" : "existing";
  const result = safeParse(mode, raw);
  if (result.success) return result.data;
  throw new ConfigError(problemLines(result.error.issues, raw["sshPrivateKey"]));
}

type Parsed = { success: true; data: ClusterSpec } | { success: false; error: z.ZodError };

function safeParse(mode: ClusterSpec["mode"], raw: Record<string, unknown>): Parsed {
  // reportInput: the "got" part of each message shows what the failing check saw.
  switch (mode) {
    case "aws":
      return awsConfigSchema.safeParse(raw, { reportInput: true });
    case "existing":
      return existingConfigSchema.safeParse(raw, { reportInput: true });
    default: {
      const unhandled: never = mode;
      throw new Error(`unhandled mode ${JSON.stringify(unhandled)}`);
    }
  }
}

function problemLines(issues: readonly z.core.$ZodIssue[], secret: unknown): string[] {
  // Two checks can fail on one value (e.g. a bad element and a duplicate); say it once.
  return [...new Set(issues.flatMap((issue) => linesOf(issue, secret)))];
}

function linesOf(issue: z.core.$ZodIssue, secret: unknown): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `[${keyPath([...issue.path, key])}] ${issue.message}`);
  }
  const head = `[${keyPath(issue.path)}] ${issue.message}`;
  if (issue.code === "custom" && issue.params?.["showsValue"] === SHOWS_VALUE.showsValue) return [head];
  return [`${head}; got ${shown(issue, secret)}`];
}

/** `lsyncd.delay`, `hosts.nodes[1].address`. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    return out === "" ? String(key) : `${out}.${String(key)}`;
  }, "");
}

function shown(issue: z.core.$ZodIssue, secret: unknown): string {
  if (issue.input === undefined) return "nothing";
  if (issue.path.length === 1 && issue.path[0] === "sshPrivateKey") return "<secret>";
  const text = JSON.stringify(issue.input) ?? String(issue.input);
  // Error text ends up in CI logs: never echo a private key, even one pasted into the wrong key.
  const secretText = typeof secret === "string" && secret !== "" ? JSON.stringify(secret).slice(1, -1) : undefined;
  if (text.includes("PRIVATE KEY") || (secretText !== undefined && text.includes(secretText))) return "<secret>";
  return text;
}
