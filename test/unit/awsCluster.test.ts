// The AWS part as the engine would see it: what a user would notice if it broke
// (open SSH, unencrypted disks, all nodes in one zone, a wrong image, a leaked key).
import { execFile } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { awsCalls, installMocks, isSecret, Recorder, RecordedResource, resolve } from "../../testing/pulumiMocks";
import type { AwsCluster as AwsClusterType } from "../../components/awsCluster";
import type { AwsModeSpec } from "../../components/spec";

const CLUSTER_ID = "a1b2c3d4"; // the mock RandomId's hex
const GET_AMI = "aws:ec2/getAmi:getAmi";
const GET_AZS = "aws:index/getAvailabilityZones:getAvailabilityZones";

const T = {
  instance: "aws:ec2/instance:Instance",
  volume: "aws:ebs/volume:Volume",
  attachment: "aws:ec2/volumeAttachment:VolumeAttachment",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  subnet: "aws:ec2/subnet:Subnet",
  route: "aws:ec2/route:Route",
  keyPair: "aws:ec2/keyPair:KeyPair",
  tlsKey: "tls:index/privateKey:PrivateKey",
};

/** A full, valid AWS-mode spec: 5 nodes over 2 zones, EBS data disks, web on. */
const baseSpec: AwsModeSpec = {
  mode: "aws",
  syncDir: "/srv/images",
  lsyncd: { delay: 0, maxProcesses: 1, excludes: [], statusInterval: 10, quietPeriod: 1 },
  inotify: { maxUserWatches: 1048576, maxQueuedEvents: 65536, maxUserInstances: 256 },
  web: { enabled: true, port: 8080 },
  audit: { intervalMinutes: 10, graceSeconds: 60, checksumHours: 24 },
  versions: { keepDays: 14, warnDiskPercent: 20 },
  deleteFuse: { files: 200, seconds: 60 },
  nodeCount: 5,
  instanceType: "m7i.large",
  exchangeInstanceType: "t3.medium",
  availabilityZones: 2,
  sshUser: "admin",
  operatorCidrs: ["198.51.100.7/32", "203.0.113.0/24"],
  webCidrs: ["192.0.2.0/24", "10.0.0.0/8"],
  disk: { kind: "ebs", sizeGiB: 200, iops: 6000, throughputMiBps: 400 },
  dlm: { enabled: true, intervalHours: 12, time: "02:30", retainCount: 28 },
};

function spec(overrides: Partial<AwsModeSpec>): AwsModeSpec {
  return { ...baseSpec, ...overrides };
}

interface Built {
  readonly rec: Recorder;
  readonly cluster: AwsClusterType;
  /** Every invoke the program made, in order. */
  readonly invokes: { token: string; inputs: any }[];
  /** Resource options as each resource was registered with them (the recorder has no ignoreChanges). */
  readonly options: Map<string, pulumi.CustomResourceOptions>;
}

/**
 * The component module, loaded only once mocks are installed (the SDK reads its settings
 * when first used). Each build waits for all its registrations, so nothing from one build
 * reaches the next build's mocks.
 */
function awsClusterClass(): typeof AwsClusterType {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only after the mocks are installed
  return (require("../../components/awsCluster") as typeof import("../../components/awsCluster")).AwsCluster;
}

/** Installs fresh mocks, builds one cluster and waits until every registration is done. */
async function build(s: AwsModeSpec, calls: Record<string, (inputs: any) => Record<string, any>> = awsCalls): Promise<Built> {
  const invokes: { token: string; inputs: any }[] = [];
  const recordingCalls = Object.fromEntries(
    Object.entries(calls).map(([token, fn]) => [
      token,
      (inputs: any) => {
        invokes.push({ token, inputs });
        return fn(inputs);
      },
    ]),
  );
  const rec = await installMocks({ calls: recordingCalls });
  const AwsCluster = awsClusterClass();
  const options = new Map<string, pulumi.CustomResourceOptions>();
  const cluster = new AwsCluster(
    "c",
    { spec: s },
    // Transformations reach every child and see its final options; this one only looks.
    { transformations: [({ name, opts }) => void options.set(name, opts)] },
  );
  await waitForRegistrations();
  return { rec, cluster, invokes, options };
}

/**
 * Resolves once every resource registration started so far has finished. The runtime's
 * own drain (what `pulumi up` waits on before exit) is marked @internal, so it is not in
 * the typings; rule and route resources have no Output a test could await instead.
 */
function waitForRegistrations(): Promise<void> {
  return (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

const allHosts = (c: AwsClusterType) => [c.exchange, ...c.nodes];
const instanceOf = (rec: Recorder, host: string) => rec.named(`c-${host}-instance`);
const sshRules = (rec: Recorder) =>
  rec.ofType(T.ingress).filter((r) => r.inputs.ipProtocol === "-1" || (r.inputs.fromPort <= 22 && r.inputs.toPort >= 22));

describe("AwsCluster with EBS data disks (5 nodes, 2 zones, web on)", () => {
  let b: Built;
  beforeAll(async () => {
    b = await build(baseSpec);
  });

  test("creates the exchange and node01..node05, each with its own encrypted gp3 data volume", () => {
    expect(b.cluster.exchange.name).toBe("exchange");
    expect(b.cluster.nodes.map((n) => n.name)).toEqual(["node01", "node02", "node03", "node04", "node05"]);
    expect(b.rec.ofType(T.instance)).toHaveLength(6);
    const volumes = b.rec.ofType(T.volume);
    expect(volumes).toHaveLength(6);
    for (const v of volumes) {
      expect(v.inputs).toMatchObject({ type: "gp3", encrypted: true, size: 200, iops: 6000, throughput: 400 });
    }
  });

  test("every instance requires IMDSv2 with one hop and an encrypted gp3 root volume", () => {
    for (const i of b.rec.ofType(T.instance)) {
      expect(i.inputs.metadataOptions).toEqual({ httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 });
      expect(i.inputs.rootBlockDevice).toMatchObject({ encrypted: true, volumeType: "gp3", volumeSize: 16 });
      expect(i.inputs.userDataReplaceOnChange).toBe(false);
    }
  });

  test("exchange uses exchangeInstanceType, nodes use instanceType", () => {
    expect(instanceOf(b.rec, "exchange").inputs.instanceType).toBe("t3.medium");
    for (const n of ["node01", "node02", "node03", "node04", "node05"]) {
      expect(instanceOf(b.rec, n).inputs.instanceType).toBe("m7i.large");
    }
  });

  test("nodes are spread round-robin over the zones, the exchange is in the first", async () => {
    expect(await resolve(b.cluster.exchange.availabilityZone)).toBe("eu-central-1a");
    const zones = await Promise.all(b.cluster.nodes.map((n) => resolve(n.availabilityZone)));
    expect(zones).toEqual(["eu-central-1a", "eu-central-1b", "eu-central-1a", "eu-central-1b", "eu-central-1a"]);
    // Only the requested number of subnets, one per zone, each public.
    const subnets = b.rec.ofType(T.subnet);
    expect(subnets.map((s) => [s.inputs.availabilityZone, s.inputs.cidrBlock, s.inputs.mapPublicIpOnLaunch])).toEqual([
      ["eu-central-1a", "10.42.0.0/24", true],
      ["eu-central-1b", "10.42.1.0/24", true],
    ]);
  });

  test("each data volume is in its instance's zone and attached to that instance at /dev/sdf", async () => {
    const attachments = b.rec.ofType(T.attachment);
    expect(attachments).toHaveLength(6);
    for (const host of allHosts(b.cluster)) {
      if (host.disk.kind !== "ebs") throw new Error(`${host.name} should have an EBS disk`);
      const [instanceId, volumeId] = await Promise.all([resolve(host.instance.id), resolve(host.disk.volumeId)]);
      const attachment = attachments.find((a) => a.inputs.volumeId === volumeId);
      expect(attachment?.inputs).toMatchObject({ instanceId, deviceName: "/dev/sdf", stopInstanceBeforeDetaching: true });
      expect(b.rec.named(`c-${host.name}-data`).inputs.availabilityZone).toBe(instanceOf(b.rec, host.name).inputs.availabilityZone);
    }
  });

  test("a replaced host's attachment is removed before the new one is made (a volume attaches to one instance)", () => {
    for (const a of b.rec.ofType(T.attachment)) {
      expect(a.deleteBeforeReplace).toBe(true);
    }
  });

  test("SSH is reachable only from the operator CIDRs, and between hosts only exchange <-> node (never node to node)", () => {
    const clusterSg = b.rec.named("c-network-cluster-sg");
    const rules = sshRules(b.rec);
    const operator = rules.filter((r) => r.inputs.cidrIpv4 !== undefined || r.inputs.cidrIpv6 !== undefined);
    expect(operator.every((r) => r.inputs.securityGroupId === `${clusterSg.name}-id`)).toBe(true);
    expect(operator.map((r) => r.inputs.cidrIpv4).sort()).toEqual([...baseSpec.operatorCidrs].sort());
    const between = rules
      .filter((r) => r.inputs.referencedSecurityGroupId !== undefined)
      .map((r) => `${r.inputs.referencedSecurityGroupId} -> ${r.inputs.securityGroupId}`)
      .sort();
    expect(between).toEqual(["c-network-exchange-sg-id -> c-network-node-sg-id", "c-network-node-sg-id -> c-network-exchange-sg-id"]);
    expect(rules).toHaveLength(baseSpec.operatorCidrs.length + 2);
    for (const r of rules) {
      expect(r.inputs.cidrIpv4).not.toBe("0.0.0.0/0");
      expect(r.inputs.cidrIpv6).not.toBe("::/0");
      expect(r.inputs).toMatchObject({ ipProtocol: "tcp", fromPort: 22, toPort: 22 });
    }
    expect(instanceOf(b.rec, "exchange").inputs.vpcSecurityGroupIds).toContain("c-network-exchange-sg-id");
    for (const n of b.cluster.nodes) {
      expect(instanceOf(b.rec, n.name).inputs.vpcSecurityGroupIds).toContain("c-network-node-sg-id");
      expect(instanceOf(b.rec, n.name).inputs.vpcSecurityGroupIds).not.toContain("c-network-exchange-sg-id");
    }
  });

  test("hosts can reach apt: all egress is allowed and hosts wait for the internet route", () => {
    expect(b.rec.ofType(T.egress).map((r) => r.inputs)).toEqual([
      expect.objectContaining({ securityGroupId: "c-network-cluster-sg-id", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }),
    ]);
    const route = b.rec.ofType(T.route)[0];
    expect(route.inputs).toMatchObject({ destinationCidrBlock: "0.0.0.0/0", gatewayId: "c-network-igw-id" });
    for (const i of b.rec.ofType(T.instance)) {
      expect(i.dependencies).toContain(route.urn);
    }
  });

  test("HTTP on web.port is open from the web CIDRs, on the nodes only", () => {
    const webSg = b.rec.named("c-network-web-sg");
    const http = b.rec.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === `${webSg.name}-id`);
    expect(http.map((r) => r.inputs.cidrIpv4).sort()).toEqual([...baseSpec.webCidrs].sort());
    for (const r of http) {
      expect(r.inputs).toMatchObject({ ipProtocol: "tcp", fromPort: 8080, toPort: 8080 });
    }
    expect(instanceOf(b.rec, "exchange").inputs.vpcSecurityGroupIds).toEqual(["c-network-cluster-sg-id", "c-network-exchange-sg-id"]);
    for (const n of b.cluster.nodes) {
      expect(instanceOf(b.rec, n.name).inputs.vpcSecurityGroupIds).toEqual([
        "c-network-cluster-sg-id",
        "c-network-node-sg-id",
        "c-network-web-sg-id",
      ]);
    }
  });

  test("every taggable resource carries the cluster id in its tags and Name", () => {
    const untaggable = new Set([
      T.route,
      T.attachment,
      "aws:ec2/routeTableAssociation:RouteTableAssociation",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ]);
    const taggable = b.rec.resources.filter((r) => r.custom && r.type.startsWith("aws:") && !untaggable.has(r.type));
    expect(taggable.length).toBeGreaterThan(20);
    for (const r of taggable) {
      expect({ name: r.name, tags: r.inputs.tags }).toEqual({
        name: r.name,
        tags: expect.objectContaining({ "lsyncd-cluster:cluster": CLUSTER_ID, Name: expect.stringContaining(`lsc-${CLUSTER_ID}-`) }),
      });
    }
    for (const i of b.rec.ofType(T.instance)) {
      expect(i.inputs.rootBlockDevice.tags.Name).toContain(`lsc-${CLUSTER_ID}-`);
    }
    // Names AWS keeps unique per account carry the id too.
    for (const sg of b.rec.ofType(T.sg)) expect(sg.inputs.namePrefix).toMatch(new RegExp(`^lsc-${CLUSTER_ID}-`));
    expect(b.rec.ofType(T.keyPair)[0].inputs.keyNamePrefix).toMatch(new RegExp(`^lsc-${CLUSTER_ID}-`));
  });

  test("hosts are tagged with their role", () => {
    expect(instanceOf(b.rec, "exchange").inputs.tags).toMatchObject({
      "lsyncd-cluster:role": "exchange",
      Name: `lsc-${CLUSTER_ID}-exchange`,
    });
    expect(instanceOf(b.rec, "node03").inputs.tags).toMatchObject({ "lsyncd-cluster:role": "node", Name: `lsc-${CLUSTER_ID}-node03` });
    expect(b.rec.named("c-node03-data").inputs.tags).toMatchObject({ "lsyncd-cluster:role": "node" });
  });

  test("the outputs expose the cluster id, the cluster security group and host addresses", async () => {
    expect(await resolve(b.cluster.clusterId)).toBe(CLUSTER_ID);
    expect(await resolve(b.cluster.securityGroupId)).toBe("c-network-cluster-sg-id");
    // The Elastic IP, not the instance's own public address: a stop/start keeps it.
    expect(await resolve(b.cluster.exchange.publicIp)).toMatch(/^198\.51\.100\.\d+$/);
    expect(await resolve(b.cluster.nodes[0].privateIp)).toMatch(/^10\.42\./);
  });

  test("every host has an Elastic IP on its instance, so its address survives a stop/start", async () => {
    const eips = b.rec.ofType("aws:ec2/eip:Eip");
    expect(eips.map((e) => e.name).sort()).toEqual(
      ["c-exchange-address", ...["01", "02", "03", "04", "05"].map((n) => `c-node${n}-address`)].sort(),
    );
    for (const e of eips) {
      expect(e.inputs.domain).toBe("vpc");
      const host = [b.cluster.exchange, ...b.cluster.nodes].find((h) => `c-${h.name}-address` === e.name)!;
      expect(e.inputs.instance).toBe(await resolve(host.instance.id));
    }
  });

  test("every host's SSH host key is the program's, installed at first boot and pinned by every step", async () => {
    for (const h of [b.cluster.exchange, ...b.cluster.nodes]) {
      const instance = instanceOf(b.rec, h.name);
      expect(instance.inputs.userData).toMatch(/^#cloud-config\n/);
      const cloudConfig = JSON.parse(String(instance.inputs.userData).replace(/^#cloud-config\n/, ""));
      expect(cloudConfig).toMatchObject({ ssh_deletekeys: true, ssh_genkeytypes: [] });
      expect(cloudConfig.ssh_keys.ed25519_private).toContain("OPENSSH PRIVATE KEY");
      expect(b.options.get(instance.name)?.additionalSecretOutputs).toContain("userData");
      expect(await resolve(h.hostKey)).toMatch(/^ssh-ed25519 \S+$/);
    }
  });

  test("data volumes are kept when a host or the stack goes away", () => {
    for (const v of b.rec.ofType(T.volume)) {
      expect(b.options.get(v.name)?.retainOnDelete).toBe(true);
      expect(b.options.get(v.name)?.ignoreChanges).toContain("availabilityZone");
    }
  });

  test("the operator key is ed25519, its private half secret everywhere, and installed as the hosts' key pair", async () => {
    expect(await isSecret(b.cluster.operatorPrivateKey)).toBe(true);
    expect(await resolve(b.cluster.operatorPrivateKey)).toContain("OPENSSH PRIVATE KEY");
    const key = b.rec.ofType(T.tlsKey)[0];
    expect(key.inputs.algorithm).toBe("ED25519");
    expect(key.additionalSecretOutputs).toEqual(expect.arrayContaining(["privateKeyOpenssh", "privateKeyPem"]));
    const keyPair = b.rec.ofType(T.keyPair)[0];
    expect(keyPair.inputs.publicKey).toMatch(/^ssh-ed25519 /);
    for (const i of b.rec.ofType(T.instance)) expect(i.inputs.keyName).toMatch(new RegExp(`^lsc-${CLUSTER_ID}-operator-`));
  });

  test("exchange and nodes both x86_64: one lookup, of the newest official Debian 12 amd64 hvm/ebs image", () => {
    const lookups = b.invokes.filter((c) => c.token === GET_AMI);
    expect(lookups).toHaveLength(1);
    expect(lookups[0].inputs).toMatchObject({
      mostRecent: true,
      owners: ["136693071363"],
      filters: expect.arrayContaining([
        { name: "name", values: ["debian-12-amd64-*"] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "root-device-type", values: ["ebs"] },
      ]),
    });
    for (const i of b.rec.ofType(T.instance)) expect(i.inputs.ami).toBe("ami-0debianamd64");
    expect(b.invokes.filter((c) => c.token === GET_AZS).map((c) => c.inputs)).toEqual([{ state: "available" }]);
  });

  test("a newer Debian image, or a new availabilityZones, on a later run does not replace running hosts", () => {
    for (const i of b.rec.ofType(T.instance)) {
      expect(b.options.get(i.name)?.ignoreChanges).toEqual(["ami", "availabilityZone", "subnetId"]);
    }
  });
});

// Issue 13: DLM snapshots of the exchange's data volume, on by default with EBS disks.
describe("AwsCluster snapshots the exchange's data volume with Data Lifecycle Manager", () => {
  const DLM = "aws:dlm/lifecyclePolicy:LifecyclePolicy";
  const ROLE = "aws:iam/role:Role";
  const ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
  let b: Built;
  beforeAll(async () => {
    b = await build(baseSpec);
  });

  test("one policy, on the schedule and retention of the config, targeting only the exchange's data volume by its Name tag", async () => {
    const policies = b.rec.ofType(DLM);
    expect(policies).toHaveLength(1);
    const p = policies[0].inputs;
    expect(p.state).toBe("ENABLED");
    expect(p.policyDetails.resourceTypes).toEqual(["VOLUME"]);
    expect(p.policyDetails.schedules).toHaveLength(1);
    expect(p.policyDetails.schedules[0]).toMatchObject({
      createRule: { interval: 12, intervalUnit: "HOURS", times: "02:30" },
      retainRule: { count: 28 },
      copyTags: true,
    });
    const exchangeVolume = b.rec.ofType(T.volume).find((v) => v.name === "c-exchange-data")!;
    expect(exchangeVolume.inputs.tags.Name).toBe(`lsc-${CLUSTER_ID}-exchange-data`);
    expect(p.policyDetails.targetTags).toEqual({ Name: exchangeVolume.inputs.tags.Name });
    // No node's volume carries that Name.
    const names = b.rec.ofType(T.volume).map((v) => v.inputs.tags.Name);
    expect(names.filter((n) => n === exchangeVolume.inputs.tags.Name)).toHaveLength(1);
    expect(await resolve(b.cluster.snapshotPolicyId!)).toBe(`${policies[0].name}-id`);
  });

  test("runs as its own role that only DLM can assume, with AWS's DLM service policy", () => {
    const roles = b.rec.ofType(ROLE);
    expect(roles).toHaveLength(1);
    const trust = JSON.parse(roles[0].inputs.assumeRolePolicy as string);
    expect(trust.Statement).toEqual([{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    const attachments = b.rec.ofType(ATTACH);
    expect(attachments).toHaveLength(1);
    expect(attachments[0].inputs.policyArn).toBe("arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole");
    const roleName = `lsc-${CLUSTER_ID}-dlm-20260101000000000000000002`;
    expect(attachments[0].inputs.role).toBe(roleName);
    expect(b.rec.ofType(DLM)[0].inputs.executionRoleArn).toBe(`arn:aws:iam::123456789012:role/${roleName}`);
  });

  test("dlm.enabled = false, or an instance-store exchange, makes neither policy nor role", async () => {
    const off = await build(spec({ dlm: { ...baseSpec.dlm, enabled: false } }));
    expect(off.rec.ofType(DLM)).toEqual([]);
    expect(off.rec.ofType(ROLE)).toEqual([]);
    expect(off.cluster.snapshotPolicyId).toBeUndefined();
    const nvme = await build(
      spec({
        disk: { kind: "instance-store" },
        instanceType: "m6id.large",
        exchangeInstanceType: "m6id.large",
        dlm: { ...baseSpec.dlm, enabled: false },
      }),
    );
    expect(nvme.rec.ofType(DLM)).toEqual([]);
  });
});

describe("AwsCluster with web disabled", () => {
  let b: Built;
  beforeAll(async () => {
    b = await build(spec({ web: { enabled: false, port: 8080 } }));
  });

  test("no web security group and no HTTP rule; nodes are only in the cluster and node groups", () => {
    expect(b.rec.ofType(T.sg).map((s) => s.name)).toEqual(["c-network-cluster-sg", "c-network-exchange-sg", "c-network-node-sg"]);
    expect(b.rec.ofType(T.ingress).filter((r) => r.inputs.fromPort === 8080 || r.inputs.toPort === 8080)).toEqual([]);
    expect(b.rec.ofType(T.ingress).every((r: RecordedResource) => r.inputs.fromPort === 22)).toBe(true);
    for (const n of b.cluster.nodes) {
      expect(instanceOf(b.rec, n.name).inputs.vpcSecurityGroupIds).toEqual(["c-network-cluster-sg-id", "c-network-node-sg-id"]);
    }
  });
});

describe("AwsCluster with instance-store disks", () => {
  let b: Built;
  beforeAll(async () => {
    b = await build(spec({ disk: { kind: "instance-store" }, instanceType: "m6id.large", exchangeInstanceType: "m6id.large" }));
  });

  test("creates no EBS volume or attachment, and reports the instance store to the disk step", () => {
    expect(b.rec.ofType(T.volume)).toEqual([]);
    expect(b.rec.ofType(T.attachment)).toEqual([]);
    for (const host of allHosts(b.cluster)) expect(host.disk).toEqual({ kind: "instance-store" });
    expect(b.rec.ofType(T.instance)).toHaveLength(6);
  });
});

describe("AwsCluster with arm64 nodes and an x86_64 exchange", () => {
  let b: Built;
  beforeAll(async () => {
    b = await build(spec({ instanceType: "m7g.large", exchangeInstanceType: "t3.medium" }));
  });

  test("looks up an arm64 Debian image for the nodes and an amd64 one for the exchange, once each", () => {
    const lookups = b.invokes.filter((c) => c.token === GET_AMI).map((c) => c.inputs.filters);
    expect(lookups).toHaveLength(2);
    expect(lookups).toEqual(
      expect.arrayContaining([
        expect.arrayContaining([
          { name: "name", values: ["debian-12-arm64-*"] },
          { name: "architecture", values: ["arm64"] },
        ]),
        expect.arrayContaining([
          { name: "name", values: ["debian-12-amd64-*"] },
          { name: "architecture", values: ["x86_64"] },
        ]),
      ]),
    );
    expect(instanceOf(b.rec, "exchange").inputs.ami).toBe("ami-0debianamd64");
    for (const n of b.cluster.nodes) expect(instanceOf(b.rec, n.name).inputs.ami).toBe("ami-0debianarm64");
  });
});

describe("AwsCluster with an AMI override", () => {
  let b: Built;
  beforeAll(async () => {
    b = await build(spec({ ami: "ami-0123456789abcdef0" }));
  });

  test("boots every host from it and makes no image lookup", () => {
    expect(b.invokes.filter((c) => c.token === GET_AMI)).toEqual([]);
    for (const i of b.rec.ofType(T.instance)) expect(i.inputs.ami).toBe("ami-0123456789abcdef0");
  });

  test("changing the pinned image is honoured (hosts do not ignore it)", () => {
    for (const i of b.rec.ofType(T.instance)) {
      expect(b.options.get(i.name)?.ignoreChanges ?? []).not.toContain("ami");
    }
  });
});

describe("AwsCluster in a region with fewer zones than requested", () => {
  // The check needs the region's zones, which only an invoke gives, so it fails an Output
  // and every resource built from it: the language host reports that as unhandled
  // rejections on the real `process`, which jest's sandbox hides from a test. So this one
  // case runs the program in a child node, as the language host would.
  test("fails the deployment with one clear error naming the setting, the zones found and the fix, and builds no subnet or host", async () => {
    const outcome = await buildInChild(spec({ availabilityZones: 3 }), {
      names: ["eu-north-9a", "eu-north-9b"],
      zoneIds: ["eun9-az1", "eun9-az2"],
      id: "eu-north-9",
      region: "eu-north-9",
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0].runError).toBe(true); // reported without a stack trace
    expect(outcome.errors[0].message).toContain(
      "[availabilityZones] must be at most 2: region eu-north-9 has only 2 available (eu-north-9a, eu-north-9b); got 3. " +
        "Lower availabilityZones or deploy to another region",
    );
    expect(outcome.registered).not.toContain(T.subnet);
    expect(outcome.registered).not.toContain(T.instance);
  }, 60_000);
});

describe("AwsCluster refuses SSH open to the world", () => {
  test.each(["0.0.0.0/0", "::/0"])("operatorCidrs containing %s throws before any rule or host exists", async (cidr) => {
    const rec = await installMocks({ calls: awsCalls });
    const AwsCluster = awsClusterClass();
    expect(() => new AwsCluster("c", { spec: spec({ operatorCidrs: ["198.51.100.7/32", cidr] }) })).toThrow(
      /^\[operatorCidrs\] must not open SSH to the whole internet, .*; got "(0\.0\.0\.0|::)\/0"$/,
    );
    // The components registered before the throw finish against these mocks, not the next test's.
    await waitForRegistrations();
    expect(rec.ofType(T.ingress)).toEqual([]);
    expect(rec.ofType(T.instance)).toEqual([]);
  });
});

interface ChildOutcome {
  /** 1 when the run failed, as `pulumi up` would. */
  readonly exitCode: number;
  /** Distinct errors (by identity, as the language host dedupes them). */
  readonly errors: { message: string; runError: boolean }[];
  /** Types of every resource the mocks saw registered. */
  readonly registered: string[];
}

const CHILD_PROGRAM = `
const path = require("path");
const [root, specJson, zonesJson] = process.argv.slice(1);
require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
const pulumi = require("@pulumi/pulumi");
const { awsCalls, installMocks } = require(path.join(root, "testing/pulumiMocks"));
const errors = new Set();
process.on("unhandledRejection", (e) => errors.add(e));
(async () => {
  const calls = { ...awsCalls, "${GET_AZS}": () => JSON.parse(zonesJson) };
  const rec = await installMocks({ calls });
  const { AwsCluster } = require(path.join(root, "components/awsCluster"));
  new AwsCluster("c", { spec: JSON.parse(specJson) });
  // Resources that wait on a failed Output never finish registering, so there is no
  // drain to wait for: wait until registrations stop (mocks answer at once).
  for (let seen = -1, i = 0; seen !== rec.resources.length && i < 100; i++) {
    seen = rec.resources.length;
    await new Promise((done) => setTimeout(done, 100));
  }
  const report = {
    errors: [...errors].map((e) => ({ message: String(e && e.message), runError: pulumi.RunError.isInstance(e) })),
    registered: rec.resources.map((r) => r.type),
  };
  // Like the language host: any unhandled error fails the run (exit 1).
  process.stdout.write(JSON.stringify(report), () => { process.exitCode = errors.size > 0 ? 1 : 0; });
})().catch((e) => { console.error(e); process.exitCode = 2; });
`;

/** Builds a cluster in a fresh node process, with the region answering `zones`. */
function buildInChild(s: AwsModeSpec, zones: Record<string, unknown>): Promise<ChildOutcome> {
  const root = path.resolve(__dirname, "../..");
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ["-e", CHILD_PROGRAM, root, JSON.stringify(s), JSON.stringify(zones)],
      { cwd: root, timeout: 50_000 },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : error.code;
        if (exitCode !== 0 && exitCode !== 1) {
          fail(new Error(`child crashed (${error?.message}):\n${stderr}`));
          return;
        }
        try {
          done({ ...(JSON.parse(stdout) as Omit<ChildOutcome, "exitCode">), exitCode });
        } catch {
          fail(new Error(`child wrote no report (exit ${exitCode}):\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}
