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
  const needles = secretNeedles(secret);
  const redact = (line: string) => needles.reduce((out, needle) => out.split(needle).join("<secret>"), line);
  // Two checks can fail on one value (e.g. a bad element and a duplicate); say it once.
  return [...new Set(issues.flatMap((issue) => linesOf(issue, needles)).map(redact))];
}

/**
 * Text of the operator's private key that must never reach an error message (they end up
 * in CI logs): the whole key, as written and JSON-escaped, and each of its lines, longest
 * first so the whole key is replaced before its parts.
 */
function secretNeedles(secret: unknown): string[] {
  if (typeof secret !== "string") return [];
  return (
    [secret, JSON.stringify(secret).slice(1, -1), ...secret.split(/\r?\n/)]
      .map((needle) => needle.trim())
      // Shorter text is no key, and replacing it would garble ordinary words of a message.
      .filter((needle) => needle.length >= 8)
      .sort((a, b) => b.length - a.length)
  );
}

function linesOf(issue: z.core.$ZodIssue, needles: readonly string[]): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `[${keyPath([...issue.path, key])}] ${issue.message}`);
  }
  const head = `[${keyPath(issue.path)}] ${issue.message}`;
  if (issue.code === "custom" && issue.params?.["showsValue"] === SHOWS_VALUE.showsValue) return [head];
  return [`${head}; got ${shown(issue, needles)}`];
}

/** `lsyncd.delay`, `hosts.nodes[1].address`. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === "number") return `${out}[${key}]`;
    return out === "" ? String(key) : `${out}.${String(key)}`;
  }, "");
}

function shown(issue: z.core.$ZodIssue, needles: readonly string[]): string {
  if (issue.input === undefined) return "nothing";
  if (issue.path.length === 1 && issue.path[0] === "sshPrivateKey") return "<secret>";
  // Config arrives as JSON, so every value prints as JSON (undefined was handled above).
  const text = JSON.stringify(issue.input) ?? "<not JSON>";
  // Also a key pasted into the wrong place, or some other private key.
  if (text.includes("PRIVATE KEY") || needles.some((needle) => text.includes(needle))) return "<secret>";
  return text;
}
