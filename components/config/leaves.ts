// The building blocks of the config schemas: leaves that carry one text saying what they
// accept (used for every way they can fail), strict sections that list the keys allowed
// at their level, and the plumbing that lets cross-key rules run after other problems.
import { z } from "zod";

/** Params of a custom issue whose message already names the offending value. */
export const SHOWS_VALUE = { showsValue: true } as const;

// ---------------------------------------------------------------- building blocks

/** The same text for every failure of a leaf; `missing` replaces it when the key is absent. */
export function say(accepted: string, missing?: string) {
  return {
    error: (issue: { readonly input?: unknown }): string => (issue.input === undefined && missing !== undefined ? missing : accepted),
  };
}

export function wholeNumber(min: number, max: number, unit?: string) {
  const e = say(`must be a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}`);
  return z.number(e).int(e).min(min, e).max(max, e);
}

/** Seconds in steps of 0.1 (lsyncd's timers take fractions). */
export function tenthsOfSeconds(min: number, max: number) {
  const e = say(`must be a number of seconds from ${min} to ${max}, in steps of 0.1`);
  return z
    .number(e)
    .min(min, e)
    .max(max, e)
    .refine((v) => Math.abs(v * 10 - Math.round(v * 10)) < 1e-9, e);
}

export function matching(pattern: RegExp, accepted: string, missing?: string) {
  const e = say(accepted, missing);
  return z.string(e).regex(pattern, e);
}

/** A string leaf whose text depends on what is wrong, so it can name the fix (e.g. a CIDR's network). */
export function checked(accepted: string, problemOf: (value: string) => string | undefined, missing?: string) {
  return z.string(say(accepted, missing)).superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: value });
  });
}

export function unknownKeyText(knownKeys: readonly string[]): string {
  return `is not a known key; known keys here: ${knownKeys.join(", ")}`;
}

/** A strict object: an unknown key (a typo) is an error listing the keys allowed at that level. */
export function section<S extends z.core.$ZodLooseShape>(
  shape: S,
  accepted: string,
  missing?: string,
  knownKeys: readonly string[] = Object.keys(shape),
) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? unknownKeyText(knownKeys)
        : issue.input === undefined && missing !== undefined
          ? missing
          : accepted,
  });
}

export function anyOfKeys(shape: object): string {
  return `must be an object with any of the keys ${Object.keys(shape).join(", ")}`;
}

/** Cross-key rules run even after other problems; this makes zod call them regardless. */
export const ALWAYS = { when: () => true };

export type Path = readonly PropertyKey[];

export function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Asks whether parsing found no problem at a path, inside it or around it (a parent of the
 * wrong type). An unknown key taints only itself, not its siblings. Snapshot taken before
 * a rule adds issues, so one rule's finding does not silence the next rule.
 */
export function cleanPaths(ctx: { readonly issues: readonly z.core.$ZodRawIssue[] }): (...path: Path) => boolean {
  const spots = ctx.issues.flatMap((issue) => {
    const at = issue.path ?? [];
    return issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...at, k]) : [at];
  });
  return (...path) => spots.every((spot) => !overlaps(spot, path));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function unreachable(value: never): never {
  throw new Error(`unhandled variant ${JSON.stringify(value)}`);
}
