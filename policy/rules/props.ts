// Small helpers for reading resource inputs as @pulumi/policy hands them over.
//
// `args.props` is plain JSON (secrets already unwrapped) wrapped in a proxy that throws
// UnknownValueError when a value is not known yet (preview). Validators let that error
// propagate: the policy server then reports "can't run during preview" as advisory and the
// rule runs for real during `pulumi up`, when every input is known.

/** A record view of a value, or undefined when it is not an object. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
    return typeof value === "object" && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
}

/** The elements of an array value; [] for null/undefined/non-arrays. */
export function asArray(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** Renders a value for a violation message. */
export function show(value: unknown): string {
    if (value === undefined) {
        return "unset";
    }
    return JSON.stringify(value) ?? String(value);
}
