// Pulumi mocks that record what the program registers, the way the engine would see it:
// type, name, parent, resolved inputs, explicit dependencies and resource options.
// The SDK's MockResourceArgs carries no dependency information, so we wrap the mock
// monitor's registerResource and read the request itself.
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import * as state from "@pulumi/pulumi/runtime/state";
import { createHash, generateKeyPairSync } from "crypto";
import { REMOTE_STEP_TYPE } from "../components/remoteStep";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parentUrn: string;
  readonly inputs: Record<string, any>;
  /** URNs this resource waits on: dependsOn plus every resource its inputs came from. */
  readonly dependencies: string[];
  readonly deleteBeforeReplace: boolean;
  readonly deletedWith: string;
  readonly additionalSecretOutputs: string[];
  readonly custom: boolean;
}

export type NewResourceHook = (
  args: pulumi.runtime.MockResourceArgs,
) => Promise<Record<string, any> | undefined> | Record<string, any> | undefined;

export interface MockOptions {
  /** Extra state for a resource; return undefined for the default (inputs echoed back). */
  readonly newResource?: NewResourceHook;
  /** Known function calls; anything else throws so a new invoke cannot go unnoticed. */
  readonly calls?: Record<string, (inputs: any) => Record<string, any>>;
  readonly project?: string;
  readonly stack?: string;
  readonly preview?: boolean;
}

export interface Recorder {
  readonly resources: RecordedResource[];
  /** Resources of one type, in registration order. */
  ofType(type: string): RecordedResource[];
  /** The resource with this logical name (throws when absent or ambiguous). */
  named(name: string): RecordedResource;
  byUrn(urn: string): RecordedResource;
  /** What the program registered for a resource, known before the engine (mock) creates it. */
  registration(type: string, name: string): Omit<RecordedResource, "inputs"> | undefined;
}

export function urnName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/** Fake, but deterministic, per-resource state for the providers this program uses. */
function defaultState(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
  const n = args.name;
  switch (args.type) {
    case "aws:ec2/instance:Instance":
      return {
        publicIp: `203.0.113.${(hash(n) % 200) + 1}`,
        privateIp: `10.42.${hash(n) % 8}.${(hash(n + "p") % 200) + 10}`,
        arn: `arn:aws:ec2:::instance/${n}`,
      };
    case "aws:ebs/volume:Volume":
      return { arn: `arn:aws:ec2:::volume/${n}` };
    case "aws:iam/role:Role": {
      // AWS completes a namePrefix into the role's name.
      const name = args.inputs.name ?? `${args.inputs.namePrefix ?? ""}20260101000000000000000002`;
      return { name, arn: `arn:aws:iam::123456789012:role/${name}` };
    }
    case "aws:ec2/eip:Eip":
      return { publicIp: `198.51.100.${(hash(n) % 200) + 1}`, allocationId: `eipalloc-${hash(n).toString(16)}` };
    case "aws:ec2/keyPair:KeyPair":
      // AWS completes a keyNamePrefix into the key pair's name.
      return { keyName: args.inputs.keyName ?? `${args.inputs.keyNamePrefix ?? ""}20260101000000000000000001` };
    case "random:index/randomId:RandomId":
      return { hex: "a1b2c3d4", b64Url: "obLD1A", dec: "2712847316" };
    case "tls:index/privateKey:PrivateKey":
      return {
        privateKeyOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nMOCK\n-----END OPENSSH PRIVATE KEY-----\n",
        privateKeyPem: "-----BEGIN PRIVATE KEY-----\nMOCK\n-----END PRIVATE KEY-----\n",
        publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOCKOPERATORKEY operator\n",
      };
    case REMOTE_STEP_TYPE:
      return {
        stdout: n.endsWith("-identity") ? fakeIdentityStdout(n) : "",
        probed: n.endsWith("-disk") ? `${fakeUuid(n)} ext4\n` : "",
        drifted: false,
      };
    default:
      return {};
  }
}

/** A filesystem UUID, stable per name. */
export function fakeUuid(seed: string): string {
  return createHash("sha256")
    .update(seed)
    .digest("hex")
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5");
}

/** A base64 body that is a valid-looking, per-name public key. */
export function fakeKey(seed: string): string {
  return Buffer.from(`lsc-test-key-${seed}`.padEnd(32, "-")).toString("base64").replace(/=+$/, "");
}

/** What a host's identity step prints: its sync key and host key. */
export function fakeIdentityStdout(stepName: string): string {
  return `LSC_SYNC_KEY=ssh-ed25519 ${fakeKey(`sync-${stepName}`)}\nLSC_HOST_KEY=ssh-ed25519 ${fakeKey(`host-${stepName}`)}\n`;
}

function hash(s: string): number {
  let h = 7;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

/** Mock id: stable per name so two builds of the same config look identical. */
function mockId(args: pulumi.runtime.MockResourceArgs): string {
  switch (args.type) {
    case "aws:ebs/volume:Volume":
      return `vol-0${hash(args.name).toString(16).padStart(16, "0")}`;
    case "aws:ec2/instance:Instance":
      return `i-0${hash(args.name).toString(16).padStart(16, "0")}`;
    default:
      return `${args.name}-id`;
  }
}

export async function installMocks(options: MockOptions = {}): Promise<Recorder> {
  const resources: RecordedResource[] = [];
  const pending = new Map<string, Omit<RecordedResource, "inputs">>();

  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const extra = (await options.newResource?.(args)) ?? {};
        return { id: mockId(args), state: { ...args.inputs, ...defaultState(args), ...extra } };
      },
      call: (args) => {
        const fn = options.calls?.[args.token];
        if (!fn) {
          throw new Error(`unexpected invoke ${args.token}: add it to the test's calls`);
        }
        return fn(args.inputs);
      },
    },
    options.project ?? "lsyncd-cluster",
    options.stack ?? "test",
    options.preview ?? false,
  );

  const monitor = settings.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
    pending.set(urn, {
      type: req.getType(),
      name: req.getName(),
      urn,
      parentUrn: req.getParent(),
      dependencies: req.getDependenciesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      deletedWith: req.getDeletedwith(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      custom: req.getCustom(),
    });
    return register(req, callback);
  };
  const origNew = monitor.mocks.newResource.bind(monitor.mocks);
  monitor.mocks.newResource = async (args: pulumi.runtime.MockResourceArgs) => {
    const result = await origNew(args);
    const entry = [...pending.values()].find(
      (p) => p.type === args.type && p.name === args.name && !resources.some((r) => r.urn === p.urn),
    );
    if (entry) {
      resources.push({ ...entry, inputs: args.inputs });
    }
    return result;
  };

  const recorder: Recorder = {
    resources,
    ofType: (type) => resources.filter((r) => r.type === type),
    named: (name) => {
      const found = resources.filter((r) => r.name === name);
      if (found.length !== 1) {
        throw new Error(`expected one resource named ${name}, found ${found.length}: ${resources.map((r) => r.name).join(", ")}`);
      }
      return found[0];
    },
    registration: (type, name) => [...pending.values()].find((p) => p.type === type && p.name === name),
    byUrn: (urn) => {
      const found = resources.find((r) => r.urn === urn);
      if (!found) throw new Error(`no resource ${urnName(urn)} recorded`);
      return found;
    },
  };
  return recorder;
}

/** Resolve an Output in a test (mocks resolve everything, including unknowns as undefined). */
export function resolve<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((done) => pulumi.output(output).apply((v) => done(v as T)));
}

/** Whether an Output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}

/** Standard answers for the invokes the AWS part makes. */
export const awsCalls: Record<string, (inputs: any) => Record<string, any>> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    names: ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
    zoneIds: ["euc1-az2", "euc1-az3", "euc1-az1"],
    state: "available",
    id: "eu-central-1",
  }),
  "aws:ec2/getAmi:getAmi": (inputs) => ({
    id: inputs.filters?.some((f: any) => f.values?.includes("arm64")) ? "ami-0debianarm64" : "ami-0debianamd64",
    name: "debian-12-amd64-20261101-1234",
    architecture: "x86_64",
  }),
};

/** Wait until the SDK has no registration left in flight (what `pulumi up` waits for). */
export async function waitForRegistrations(): Promise<void> {
  // getStore is exported at runtime but not in the typings.
  const store = (state as unknown as { getStore(): any }).getStore();
  let done: Promise<void> | undefined;
  while (done !== store.settings.rpcDone) {
    done = store.settings.rpcDone;
    await done;
  }
}

/** A real, unencrypted private key (PKCS#8 PEM), for config that validates key shape. */
export function testPrivateKey(): string {
  return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}
