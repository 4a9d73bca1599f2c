// IPv4 CIDR lists for the security groups: each entry checked (naming the network a
// host address belongs to), listed once, and the operator CIDRs covering little.
import { isIPv4 } from "node:net";
import { z } from "zod";
import { ALWAYS, SHOWS_VALUE, checked, cleanPaths, say } from "./leaves";

export const CIDR_TEXT = 'must be an IPv4 CIDR: four numbers 0 to 255, "/" and a prefix length 0 to 32, e.g. "203.0.113.7/32"';
export const OPERATOR_CIDRS_WHY =
  'the CIDRs allowed to SSH to the hosts, e.g. ["203.0.113.7/32"] ' + "(find your address with: curl -s https://checkip.amazonaws.com)";

export function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function cidrProblem(text: string, allowWholeInternet: boolean): string | undefined {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  if (!match) {
    return isIPv4(text) ? `must be an IPv4 CIDR with a prefix length: use "${text}/32" for this one address` : CIDR_TEXT;
  }
  const address = match[1] ?? "";
  const prefixText = match[2] ?? "";
  const prefix = Number(prefixText);
  // net.isIPv4 rejects leading zeros, which some tools read as octal.
  if (!isIPv4(address) || prefix > 32 || (prefixText.length > 1 && prefixText.startsWith("0"))) {
    return CIDR_TEXT;
  }
  if (prefix === 0 && !allowWholeInternet) {
    return "must not open SSH to the whole internet (a /0 prefix); list the operators' own " + 'addresses instead, e.g. "203.0.113.7/32"';
  }
  const blockSize = 2 ** (32 - prefix);
  const network = numberToIpv4(Math.floor(ipv4ToNumber(address) / blockSize) * blockSize);
  if (network !== address) {
    return (
      `must have no address bits set after the /${prefix} prefix: use "${network}/${prefix}" ` +
      `for the network, or "${address}/32" for the one address`
    );
  }
  return undefined;
}

/** AWS refuses a security group rule that lists the same CIDR twice. */
export function listedOnce(listKey: string) {
  return (values: readonly string[], ctx: z.core.$RefinementCtx<string[]>): void => {
    if (!Array.isArray(values)) return;
    const clean = cleanPaths(ctx);
    const firstAt = new Map<string, number>();
    values.forEach((value: string, index) => {
      if (!clean(index)) return;
      const seen = firstAt.get(value);
      if (seen === undefined) {
        firstAt.set(value, index);
        return;
      }
      ctx.addIssue({
        code: "custom",
        path: [index],
        input: value,
        message: `must be listed only once; ${JSON.stringify(value)} is already ${listKey}[${seen}]`,
        params: SHOWS_VALUE,
      });
    });
  };
}

/** Most addresses the operator CIDRs may cover together: one /8. */
export const MAX_OPERATOR_ADDRESSES = 2 ** 24;

/** How many distinct addresses valid IPv4 CIDRs cover together (overlaps counted once). */
export function addressesCovered(cidrs: readonly string[]): number {
  const ranges = cidrs
    .map((cidr) => {
      const [address = "", prefix = ""] = cidr.split("/");
      const start = ipv4ToNumber(address);
      return [start, start + 2 ** (32 - Number(prefix))] as const;
    })
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -1;
  for (const [from, to] of ranges) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/**
 * SSH open to "almost everyone" is as bad as to everyone: 0.0.0.0/1 + 128.0.0.0/1 passes a
 * per-entry /0 check. The union is measured once every entry is a valid CIDR.
 */
export function coversLittle() {
  return (values: readonly string[], ctx: z.core.$RefinementCtx<string[]>): void => {
    if (!Array.isArray(values) || values.some((v) => typeof v !== "string" || cidrProblem(v, false) !== undefined)) return;
    const covered = addressesCovered(values);
    if (covered <= MAX_OPERATOR_ADDRESSES) return;
    ctx.addIssue({
      code: "custom",
      input: values,
      message:
        `must together cover at most ${MAX_OPERATOR_ADDRESSES.toLocaleString("en-US")} addresses (one /8), ` +
        `but these cover ${covered.toLocaleString("en-US")}: SSH to every host would be open to much of the ` +
        `internet; list the operators' own addresses instead, e.g. ["203.0.113.7/32"]`,
    });
  };
}

export function cidrList(listKey: string, allowWholeInternet: boolean, accepted: string, missing?: string) {
  const e = say(accepted, missing);
  const list = z
    .array(
      checked(CIDR_TEXT, (cidr) => cidrProblem(cidr, allowWholeInternet)),
      e,
    )
    .min(1, e)
    .superRefine(listedOnce(listKey), ALWAYS);
  return allowWholeInternet ? list : list.superRefine(coversLittle(), ALWAYS);
}
