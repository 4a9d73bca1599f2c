// The outputs contract of the lsyncd-cluster stack, as a consumer sees it, plus type guards
// that check what a StackReference hands back (it is typed `any`) before anything uses it.
// No Pulumi import here: plain data in, typed data out.

// The contract itself is the program's own definition (components/outputs.ts): one place
// to change it; the guards below are typed against it, and the program's unit tests run
// them on what the program exports (test/unit/program.test.ts).
import type { ClusterOutputs, HostOutput, NodeOutput } from "../../components/outputs";
export type { ClusterOutputs, HostOutput, NodeOutput };

type Guard<T> = (value: unknown) => value is T;

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const isString: Guard<string> = (value): value is string => typeof value === "string";

const isStringOrNull: Guard<string | null> = (value): value is string | null => value === null || typeof value === "string";

export const isHost: Guard<HostOutput> = (value): value is HostOutput =>
    isRecord(value) && isString(value.name) && isString(value.publicIp) && isString(value.privateIp);

export const isNode: Guard<NodeOutput> = (value): value is NodeOutput =>
    isHost(value) &&
    isStringOrNull((value as unknown as Record<string, unknown>).availabilityZone) &&
    isStringOrNull((value as unknown as Record<string, unknown>).url);

export const isNodeList: Guard<NodeOutput[]> = (value): value is NodeOutput[] => Array.isArray(value) && value.every(isNode);

export const isStringMap: Guard<Record<string, string>> = (value): value is Record<string, string> =>
    isRecord(value) && Object.values(value).every(isString);

/**
 * Returns `value` typed as T, or throws an error that names the output and what was expected,
 * so a contract break fails the consumer's preview instead of producing wrong resources.
 */
export function expectOutput<T>(name: keyof ClusterOutputs, guard: Guard<T>, expected: string) {
    return (value: unknown): T => {
        if (!guard(value)) {
            throw new Error(
                `stack output "${String(name)}" does not match the lsyncd-cluster outputs contract: ` +
                    `expected ${expected}, got ${JSON.stringify(value)}`,
            );
        }
        return value;
    };
}
