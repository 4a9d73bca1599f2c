// Stack config as parseClusterConfig wants it: bare keys, structured values decoded.
// The only module of the config layer that imports Pulumi.
import * as pulumi from "@pulumi/pulumi";
import { STRING_KEYS } from "./configSchema";

const NAMESPACE = "lsyncd-cluster";

/**
 * Every `lsyncd-cluster:*` key, without the namespace. Pulumi hands values over as text:
 * objects, lists, numbers and booleans as JSON. String-typed keys stay as written (an ami
 * "123" must not become a number); anything that is not JSON stays text too, so the
 * validator can say `got "three"` instead of failing here.
 */
export function readRawStackConfig(): Record<string, unknown> {
  const prefix = `${NAMESPACE}:`;
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    raw[key] = STRING_KEYS.has(key) ? text : decodeJson(text);
  }
  return raw;
}

function decodeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The operator's private key for existing hosts, kept secret all the way to the connection. */
export function readSshPrivateKey(): pulumi.Output<string> | undefined {
  return new pulumi.Config(NAMESPACE).getSecret("sshPrivateKey");
}
