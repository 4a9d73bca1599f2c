import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

import { asRecord } from "./props";

export const REMOTE_COMMAND = "command:remote:Command";
export const LOCAL_COMMAND = "command:local:Command";
/** lsyncd-cluster's own remote steps (components/remoteStep.ts). */
export const REMOTE_STEP = "pulumi-nodejs:dynamic/lsyncd-cluster:RemoteStep";

/** The script fields that are checked (stdin often carries a script or a config file; probe is a step's read). */
export const CHECKED_FIELDS = ["create", "update", "delete", "stdin", "probe"] as const;

/**
 * The user's known-hosts file in /dev/null forgets every key, so any key is "new" (and
 * accept-new or ask take it). GlobalKnownHostsFile /dev/null is not that: it only keeps
 * the system-wide file out, next to a pinned UserKnownHostsFile (the program's own ssh_config).
 */
export const KNOWN_HOSTS_DISCARDED = /UserKnownHostsFile(?:\s*=\s*|\s+)\/dev\/null(?![\w/])/i;

/** The text a shell would see once quotes and backslashes are gone (`=n''o` → `=no`). */
export function withoutShellQuoting(script: string): string {
    return script.replace(/['"\\]/g, "");
}

/**
 * Texts that a script writes as base64 payloads (lsyncd-cluster's lsc_write, `base64 -d >`):
 * every long base64 word that decodes to text.
 */
export function decodedPayloads(script: string): string[] {
    const out: string[] = [];
    for (const m of script.matchAll(/[A-Za-z0-9+/]{16,}={0,2}/g)) {
        const text = Buffer.from(m[0], "base64").toString("utf8");
        // Text, not binary noise: no replacement characters, mostly printable.
        if (!text.includes("\uFFFD") && /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(text)) out.push(text);
    }
    return out;
}

/**
 * The ssh option that turns host key checking off, in every spelling ssh accepts:
 * `-o StrictHostKeyChecking=<v>`, `-oStrictHostKeyChecking=<v>`, `StrictHostKeyChecking = <v>`,
 * `StrictHostKeyChecking <v>` (ssh_config), quotes or backslashes around the value, any case,
 * where <v> is one of the values OpenSSH maps to "off": no, off, false.
 */
export const HOST_KEY_BYPASS =
    /StrictHostKeyChecking(?:[\s"'\\]*=[\s"'\\]*|[\s"'\\]+)(?:no|off|false)(?![\w-])/i;

/** What in `text` turns host key checking off, if anything. */
function bypassIn(text: string): string | undefined {
    return HOST_KEY_BYPASS.exec(text)?.[0] ?? KNOWN_HOSTS_DISCARDED.exec(text)?.[0];
}

/**
 * Refuses command resources and lsyncd-cluster steps that reach a host without checking its
 * SSH key: a remote connection without a pinned hostKey, or a script that switches checking
 * off — written plainly, hidden by shell quoting, or inside a file the script writes.
 */
export function validateNoHostKeyBypass(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (args.type !== REMOTE_COMMAND && args.type !== LOCAL_COMMAND && args.type !== REMOTE_STEP) {
        return;
    }
    if (args.type !== LOCAL_COMMAND) {
        const connection = asRecord(args.props["connection"]);
        const hostKey = connection?.["hostKey"];
        if (connection !== undefined && (typeof hostKey !== "string" || hostKey.trim() === "")) {
            reportViolation(
                `Command "${args.name}" connects to ${JSON.stringify(connection["host"])} without a pinned host key: ` +
                    "set connection.hostKey (for lsyncd-cluster: every host's hostKey; on AWS the program pins its own).",
            );
        }
    }
    for (const field of CHECKED_FIELDS) {
        const script = args.props[field];
        if (typeof script !== "string") {
            continue;
        }
        const candidates: [string, string][] = [
            [script, ""],
            [withoutShellQuoting(script), " once shell quoting is removed"],
            ...decodedPayloads(script).map((text): [string, string] => [text, " in a file it writes (base64 payload)"]),
        ];
        for (const [text, where] of candidates) {
            const found = bypassIn(text);
            if (found) {
                reportViolation(
                    `Command "${args.name}" turns SSH host key checking off in its ${field}${where} (found ${JSON.stringify(found)}). ` +
                        "Pin the host key in known_hosts and keep StrictHostKeyChecking=yes.",
                );
                break;
            }
        }
    }
}

export const noHostKeyBypassPolicy: ResourceValidationPolicy = {
    name: "no-ssh-host-key-bypass",
    description:
        "Remote commands and lsyncd-cluster steps pin the host key; no script switches SSH host key checking off (StrictHostKeyChecking no/off/false, known hosts in /dev/null), plainly, behind shell quoting or in a file it writes.",
    severity: "critical",
    validateResource: validateNoHostKeyBypass,
};
