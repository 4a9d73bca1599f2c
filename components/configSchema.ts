// The stack config contract as zod schemas, one per mode, assembled here from the keys of
// config/ (one file per concern: leaves, common keys, CIDRs, AWS, hosts, the private key).
// Every leaf carries ONE text
// saying what it accepts, used for every way it can fail (wrong type, out of range, bad
// pattern): the user reads what to write, not which internal check tripped. config.ts
// turns each issue into `[key] <that text>; got <value>`.
//
// Cross-key rules (gp3 limits, unique host names, ...) run even when some other key is
// bad, so one throw lists every problem; they only read keys that parsed cleanly.
import { z } from "zod";
import type { ExistingModeSpec } from "./spec";
import { SSH_KEY_PLEASE, awsModeShape, awsShape } from "./config/awsKeys";
import { commonShape, toCommon } from "./config/commonKeys";
import { hostsSchema } from "./config/hostsKeys";
import { checked, say, section } from "./config/leaves";
import { PRIVATE_KEY_TEXT, privateKeyProblem } from "./config/privateKey";
/** Keys of AWS mode, each refused with the reason when hosts is set. */
function awsOnly<K extends keyof typeof awsShape>(keys: readonly K[]): Record<K, z.ZodOptional<z.ZodNever>> {
  const hint: Partial<Record<keyof typeof awsShape, string>> = {
    nodeCount: " (with hosts, the nodes are the entries of hosts.nodes)",
    sshUser: " (with hosts, set each host's user, e.g. hosts.nodes[0].user)",
    disk: ' (with hosts, set each host\'s disk, e.g. hosts.nodes[0].disk = "/dev/nvme1n1")',
  };
  const shape = {} as Record<K, z.ZodOptional<z.ZodNever>>;
  for (const key of keys) {
    shape[key] = z.never(say(`applies only in AWS mode, but hosts is set: remove it${hint[key] ?? ""}`)).optional();
  }
  return shape;
}

const existingModeShape = {
  ...commonShape,
  hosts: hostsSchema,
  sshPrivateKey: checked(
    PRIVATE_KEY_TEXT,
    privateKeyProblem,
    `is required with hosts: the private key of the operator's SSH logins to every host; ${SSH_KEY_PLEASE}`,
  ),
  ...awsOnly(Object.keys(awsShape) as (keyof typeof awsShape)[]),
};

export const existingConfigSchema = section(existingModeShape, "must be an object", undefined, [
  ...Object.keys(commonShape),
  "hosts",
  "sshPrivateKey",
]).transform((v): ExistingModeSpec => ({
  mode: "existing",
  ...toCommon(v),
  exchange: v.hosts.exchange,
  nodes: v.hosts.nodes,
}));

// ---------------------------------------------------------------- raw config reading

function isStringSchema(schema: z.ZodType): boolean {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  return inner instanceof z.ZodString;
}

/**
 * Top-level keys whose value is a plain string. Stack config hands every value over as
 * text; these must not be JSON-decoded, or an ami "123" would turn into a number.
 */
export const STRING_KEYS: ReadonlySet<string> = new Set(
  [awsModeShape, existingModeShape].flatMap((shape) =>
    Object.entries(shape as Record<string, z.ZodType>)
      .filter(([, schema]) => isStringSchema(schema))
      .map(([key]) => key),
  ),
);

export { SHOWS_VALUE } from "./config/leaves";
export { awsConfigSchema } from "./config/awsKeys";
