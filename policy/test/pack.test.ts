// The whole pack, served the way the Pulumi CLI serves it: the pack runs under
// @pulumi/pulumi's run-policy-pack launcher (ts-node, this folder's tsconfig), prints its
// gRPC port, and this test plays the engine's part over the Analyzer protocol on loopback.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
    AnalyzeDiagnostic,
    AnalyzeRequest,
    AnalyzerInfo,
    AnalyzerResourceOptions,
    AnalyzeResponse,
    EnforcementLevel,
} from "@pulumi/pulumi/proto/analyzer_pb";

const packDir = path.resolve(__dirname, "..");
// Wire sentinels of the Pulumi property protocol (see @pulumi/pulumi/runtime/rpc).
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

let child: ChildProcess;
let client: AnalyzerClient;

beforeAll(async () => {
    child = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."], {
        cwd: packDir,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<string>((resolve, reject) => {
        const lines = readline.createInterface({ input: child.stdout! });
        lines.once("line", (line) => resolve(line.trim()));
        child.once("exit", (code) => reject(new Error(`policy pack exited (${code}) before serving:\n${stderr}`)));
    });
    expect(port).toMatch(/^\d+$/);
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
    client?.close();
    if (child && child.exitCode === null) {
        child.kill("SIGTERM");
    }
});

function info(): Promise<AnalyzerInfo> {
    return new Promise((resolve, reject) =>
        client.getAnalyzerInfo(new Empty(), (err, res) => (err ? reject(err) : resolve(res))),
    );
}

function analyze(type: string, name: string, props: Record<string, unknown>): Promise<AnalyzeDiagnostic[]> {
    const req = new AnalyzeRequest()
        .setType(type)
        .setName(name)
        .setUrn(`urn:pulumi:dev::lsyncd-cluster::${type}::${name}`)
        .setOptions(new AnalyzerResourceOptions())
        .setProperties(Struct.fromJavaScript(props as Parameters<typeof Struct.fromJavaScript>[0]));
    return new Promise((resolve, reject) =>
        client.analyze(req, (err, res: AnalyzeResponse) => (err ? reject(err) : resolve(res.getDiagnosticsList()))),
    );
}

const summary = (ds: AnalyzeDiagnostic[]) =>
    ds.map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));

test("serves lsyncd-cluster-guardrails with four mandatory policies", async () => {
    const i = await info();
    expect(i.getName()).toBe("lsyncd-cluster-guardrails");
    expect(i.getVersion()).toBe(require("../package.json").version);
    const policies = i.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]);
    expect(policies.sort()).toEqual([
        ["ebs-encryption-required", EnforcementLevel.MANDATORY],
        ["imdsv2-required", EnforcementLevel.MANDATORY],
        ["no-public-ssh-ingress", EnforcementLevel.MANDATORY],
        ["no-ssh-host-key-bypass", EnforcementLevel.MANDATORY],
    ]);
});

test("a world-open SSH security group is a mandatory violation", async () => {
    const ds = await analyze("aws:ec2/securityGroup:SecurityGroup", "cluster", {
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
    });
    expect(summary(ds)).toEqual([
        {
            policy: "no-public-ssh-ingress",
            level: EnforcementLevel.MANDATORY,
            message: expect.stringContaining('security group "cluster" ingress[0] allows tcp ports 22-22 from 0.0.0.0/0'),
        },
    ]);
});

test("an instance breaking two rules gets one diagnostic per rule and per finding", async () => {
    const ds = await analyze("aws:ec2/instance:Instance", "node01", {
        ami: "ami-123",
        instanceType: "t3.small",
        metadataOptions: { httpTokens: "optional" },
    });
    expect(summary(ds).map((d) => [d.policy, d.level])).toEqual([
        ["ebs-encryption-required", EnforcementLevel.MANDATORY],
        ["imdsv2-required", EnforcementLevel.MANDATORY],
    ]);
});

test("a compliant instance and a compliant command pass", async () => {
    expect(
        await analyze("aws:ec2/instance:Instance", "node02", {
            rootBlockDevice: { encrypted: true },
            ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }],
            metadataOptions: { httpTokens: "required" },
        }),
    ).toEqual([]);
    expect(
        await analyze("command:remote:Command", "node02-trust", {
            create: "ssh -o StrictHostKey" + "Checking=yes -o BatchMode=yes sync@exchange true",
        }),
    ).toEqual([]);
});

test("a host-key bypass hidden in a secret create script is still refused", async () => {
    const ds = await analyze("command:remote:Command", "seed", {
        create: { [SIG_KEY]: SECRET_SIG, value: "rsync -e 'ssh -oStrictHostKey" + "Checking=no' a b:/" },
    });
    expect(summary(ds)).toEqual([
        {
            policy: "no-ssh-host-key-bypass",
            level: EnforcementLevel.MANDATORY,
            message: expect.stringContaining('Command "seed" turns SSH host key checking off in its create'),
        },
    ]);
});

test("a value unknown at preview time is reported as advisory, not as a pass", async () => {
    const ds = await analyze("command:remote:Command", "later", { create: UNKNOWN });
    expect(summary(ds)).toEqual([
        {
            policy: "no-ssh-host-key-bypass",
            level: EnforcementLevel.ADVISORY,
            message: expect.stringContaining("can't be known during preview"),
        },
    ]);
});
