import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

export const REMOTE_COMMAND = "command:remote:Command";
export const LOCAL_COMMAND = "command:local:Command";

/** The script fields of a command resource that are checked (stdin often carries a script or a config file). */
export const CHECKED_FIELDS = ["create", "update", "delete", "stdin"] as const;

/**
 * The ssh option that turns host key checking off, in every spelling ssh accepts:
 * `-o StrictHostKeyChecking=<v>`, `-oStrictHostKeyChecking=<v>`, `StrictHostKeyChecking = <v>`,
 * `StrictHostKeyChecking <v>` (ssh_config), quotes or backslashes around the value, any case,
 * where <v> is one of the values OpenSSH maps to "off": no, off, false.
 */
export const HOST_KEY_BYPASS =
    /StrictHostKeyChecking(?:[\s"'\\]*=[\s"'\\]*|[\s"'\\]+)(?:no|off|false)(?![\w-])/i;

/** Refuses command resources whose scripts switch SSH host key checking off. */
export function validateNoHostKeyBypass(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (args.type !== REMOTE_COMMAND && args.type !== LOCAL_COMMAND) {
        return;
    }
    for (const field of CHECKED_FIELDS) {
        const script = args.props[field];
        if (typeof script !== "string") {
            continue;
        }
        const match = HOST_KEY_BYPASS.exec(script);
        if (match) {
            reportViolation(
                `Command "${args.name}" turns SSH host key checking off in its ${field} (found ${JSON.stringify(match[0])}). ` +
                    "Pin the host key in known_hosts and keep StrictHostKeyChecking=yes.",
            );
        }
    }
}

export const noHostKeyBypassPolicy: ResourceValidationPolicy = {
    name: "no-ssh-host-key-bypass",
    description: "command:remote/local:Command scripts must not switch SSH host key checking off (StrictHostKeyChecking set to no, off or false).",
    severity: "critical",
    validateResource: validateNoHostKeyBypass,
};
