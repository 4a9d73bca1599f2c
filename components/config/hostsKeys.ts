// Existing-hosts mode: the exchange and the nodes, each with its address, user, disk and
// pinned host key; names unique and required, addresses not shared.
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { nodeName } from "../hostNames";
import { parsePublicKey } from "../publicKey";
import type { ExistingHostSpec } from "../spec";
import { UNIX_USER, UNIX_USER_TEXT } from "./awsKeys";
import { isTidyAbsolutePath } from "./commonKeys";
import { ALWAYS, SHOWS_VALUE, checked, cleanPaths, isRecord, matching, say, section, wholeNumber } from "./leaves";

export const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
export const DEVICE_NAME = /^[A-Za-z0-9._:+@\\-]+$/;

export const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isDnsName(value: string): boolean {
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  const labels = name.split(".");
  // An all-digit last label is a mistyped IPv4 address ("10.0.0.256"), not a name.
  return (
    name.length > 0 &&
    name.length <= 253 &&
    labels.every((label) => DNS_LABEL.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1] ?? "")
  );
}

/** A zone index ("%eth0") names an interface of one host, meaningless to the others. */
export function isIpLiteral(value: string): boolean {
  return isIPv4(value) || (isIPv6(value) && !value.includes("%"));
}

export const DEVICE_TEXT = 'must be a block device path under /dev/, e.g. "/dev/nvme1n1", "/dev/loop3" or "/dev/disk/by-id/nvme-..."';
export const LISTEN_TEXT = 'must be an IPv4 or IPv6 address (no brackets) of this host for nginx to listen on, e.g. "10.0.0.11"';
export const ADDRESS_TEXT = 'must be an IPv4 address, an IPv6 address (no brackets) or a DNS name, e.g. "10.0.0.11" or "node1.example.com"';

export function hostShape() {
  return {
    name: matching(HOST_NAME, 'must be 1 to 31 lowercase letters, digits or "-", not starting with "-", e.g. "node01"').optional(),
    address: checked(
      ADDRESS_TEXT,
      (address) => (isIpLiteral(address) || isDnsName(address) ? undefined : ADDRESS_TEXT),
      "is required: the IPv4 address, IPv6 address or DNS name the operator and the other hosts " + 'reach this host at, e.g. "10.0.0.11"',
    ),
    port: wholeNumber(1, 65535).default(22),
    user: matching(UNIX_USER, UNIX_USER_TEXT).default("root"),
    disk: checked(DEVICE_TEXT, (device) =>
      device.startsWith("/dev/") && isTidyAbsolutePath(device, DEVICE_NAME) ? undefined : DEVICE_TEXT,
    ).optional(),
    hostKey: checked(HOST_KEY_TEXT, (key) => (parsePublicKey(key) === undefined ? HOST_KEY_TEXT : undefined)).optional(),
    listenAddress: checked(LISTEN_TEXT, (address) => (isIpLiteral(address) ? undefined : LISTEN_TEXT)).optional(),
  };
}

export const HOST_KEY_TEXT =
  'must be the host\'s SSH public key on one line, "<type> <base64> [comment]" with type ssh-ed25519, ' +
  "ecdsa-sha2-nistp256/384/521 or ssh-rsa (see /etc/ssh/ssh_host_ed25519_key.pub on the host)";

export const EXAMPLE_KEY = "ssh-ed25519 AAAA...";

/** A host object as the README writes it, for messages. */
export function hostExample(address: string, name?: string): string {
  return JSON.stringify({ ...(name === undefined ? {} : { name }), address, hostKey: EXAMPLE_KEY });
}

export function hostSchema(role: "exchange" | "node", missing?: string) {
  const shape = hostShape();
  // A node's name is required (hostsRules says so with a reason); the exchange's defaults.
  const required = role === "node" ? ["name", "address", "hostKey"] : ["address", "hostKey"];
  const optionalKeys = Object.keys(shape).filter((key) => !required.includes(key));
  const example = role === "node" ? hostExample("10.0.0.11", "web1") : hostExample("10.0.0.10");
  return section(
    shape,
    `must be a host object with ${required.map((k) => `"${k}"`).join(", ")} and optionally ${optionalKeys.join(", ")}, e.g. ${example}`,
    missing,
  );
}
export type ParsedHost = z.output<ReturnType<typeof hostSchema>>;

export const NODES_EXAMPLE = `[${hostExample("10.0.0.11", "web1")},${hostExample("10.0.0.12", "web2")}]`;
export const nodesText = say(
  `must be a list of 1 to 50 hosts (the web nodes), e.g. ${NODES_EXAMPLE}`,
  `is required: the web nodes, a list of 1 to 50 hosts, e.g. ${NODES_EXAMPLE}`,
);

export const hostsShape = {
  exchange: hostSchema("exchange", `is required: the exchange (hub) host, e.g. ${hostExample("10.0.0.10")}`),
  nodes: z.array(hostSchema("node"), nodesText).min(1, nodesText).max(50, nodesText),
};

export const NAME_REQUIRED =
  'is required: a name for this node, 1 to 31 lowercase letters, digits or "-", e.g. "web1". The name ' +
  "is the node's identity in the stack: with it, removing or reordering nodes never moves one node's " +
  "steps onto another's server";
export const HOST_KEY_REQUIRED =
  "is required: the host's SSH public key, e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub " +
  "on the host (ssh-keyscan shows it, but check it out of band). The program never connects to a host " +
  "whose key it has not pinned: a man in the middle would get its root scripts";
export type ParsedHosts = z.output<ReturnType<typeof section<typeof hostsShape>>>;

export interface HostSlot {
  /** Path below `hosts`, as zod reports it. */
  readonly at: readonly (string | number)[];
  readonly host: ParsedHost;
  readonly defaultName: string;
}

export function label(at: readonly (string | number)[]): string {
  return at.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : `${out}.${key}`), "hosts");
}

export function hostsRules(hosts: ParsedHosts, ctx: z.core.$RefinementCtx<ParsedHosts>): void {
  if (!isRecord(hosts)) return;
  const clean = cleanPaths(ctx);
  const slots: HostSlot[] = [{ at: ["exchange"], host: hosts.exchange, defaultName: "exchange" }];
  if (Array.isArray(hosts.nodes)) {
    hosts.nodes.forEach((host, index) => slots.push({ at: ["nodes", index], host, defaultName: nodeName(index) }));
  }

  for (const slot of slots) {
    if (!isRecord(slot.host)) continue;
    if (slot.at[0] === "nodes" && slot.host.name === undefined && clean(...slot.at, "name")) {
      ctx.addIssue({ code: "custom", path: [...slot.at, "name"], input: undefined, message: NAME_REQUIRED, params: SHOWS_VALUE });
    }
    if (slot.host.hostKey === undefined && clean(...slot.at, "hostKey")) {
      ctx.addIssue({ code: "custom", path: [...slot.at, "hostKey"], input: undefined, message: HOST_KEY_REQUIRED, params: SHOWS_VALUE });
    }
  }

  const nameOwner = new Map<string, HostSlot>();
  for (const slot of slots) {
    if (!clean(...slot.at, "name")) continue;
    const name = slot.host.name ?? slot.defaultName;
    const owner = nameOwner.get(name);
    if (owner === undefined) {
      nameOwner.set(name, slot);
      continue;
    }
    ctx.addIssue({
      code: "custom",
      path: [...slot.at, "name"],
      input: name,
      message: `must be unique; ${JSON.stringify(name)} is already used by ${label(owner.at)}`,
      params: SHOWS_VALUE,
    });
  }

  const endpointOwner = new Map<string, HostSlot>();
  for (const slot of slots) {
    if (!clean(...slot.at, "address") || !clean(...slot.at, "port")) continue;
    // DNS names are case-insensitive; two spellings of one name are one host.
    const endpoint = `${slot.host.address.toLowerCase()} port ${slot.host.port}`;
    const owner = endpointOwner.get(endpoint);
    if (owner === undefined) {
      endpointOwner.set(endpoint, slot);
      continue;
    }
    ctx.addIssue({
      code: "custom",
      path: [...slot.at, "address"],
      input: slot.host.address,
      message:
        `must be unique together with port; ${JSON.stringify(slot.host.address)} port ${slot.host.port} ` +
        `is already used by ${label(owner.at)}`,
      params: SHOWS_VALUE,
    });
  }
}

export function toHost(host: ParsedHost, defaultName: string): ExistingHostSpec {
  return {
    name: host.name ?? defaultName,
    address: host.address,
    port: host.port,
    user: host.user,
    ...(host.disk === undefined ? {} : { disk: host.disk }),
    // hostsRules has refused a host without one.
    hostKey: host.hostKey ?? "",
    ...(host.listenAddress === undefined ? {} : { listenAddress: host.listenAddress }),
  };
}

export const hostsSchema = section(
  hostsShape,
  `must be an object with "exchange" and "nodes", e.g. {"exchange":${hostExample("10.0.0.10")},"nodes":${NODES_EXAMPLE}}`,
)
  .superRefine(hostsRules, ALWAYS)
  .transform((hosts) => ({
    exchange: toHost(hosts.exchange, "exchange"),
    nodes: hosts.nodes.map((host, index) => toHost(host, nodeName(index))),
  }));
