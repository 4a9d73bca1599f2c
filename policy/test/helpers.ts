// Builds ResourceValidationArgs the way @pulumi/policy's analyzer server does for each
// resource (see node_modules/@pulumi/policy/server.js): plain JSON props wrapped in the
// unknown-checking proxy, the resource's type/urn/name, default options, and no-op helpers.
import { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";

interface PolicyProxyModule {
    unknownCheckingProxy<T extends object>(props: T): T;
    unknownStringValue: unknown;
    UnknownValueError: new (...args: never[]) => Error;
}
// Internal module of @pulumi/policy (no typings are shipped for it); the version is pinned.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const policyProxy = require("@pulumi/policy/proxy") as PolicyProxyModule;

const STACK = "dev";
const PROJECT = "lsyncd-cluster";

export function makeArgs(type: string, name: string, props: Record<string, unknown>): ResourceValidationArgs {
    const args: ResourceValidationArgs = {
        type,
        name,
        urn: `urn:pulumi:${STACK}::${PROJECT}::${type}::${name}`,
        props: policyProxy.unknownCheckingProxy(props),
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            additionalSecretOutputs: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        },
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason ?? ""}`);
        },
    };
    return args;
}

/** Runs a validator and returns the messages it reported. */
export async function violations(
    validate: ResourceValidation,
    type: string,
    name: string,
    props: Record<string, unknown>,
): Promise<string[]> {
    const report = jest.fn<void, Parameters<ReportViolation>>();
    await validate(makeArgs(type, name, props), report);
    return report.mock.calls.map(([message]) => message);
}
