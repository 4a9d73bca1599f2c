// The whole program as `pulumi up` builds it: the outputs contract in both modes, what is
// secret, and bad config stopping everything before a single resource exists.
import * as pulumi from "@pulumi/pulumi";
import { buildProgram } from "../../components/program";
import { REMOTE_STEP_TYPE } from "../../components/remoteStep";
import { existingClusterId } from "../../components/clusterHosts";
import * as contract from "../../examples/consumer/contract";
import { awsCalls, installMocks, isSecret, resolve, testPrivateKey, waitForRegistrations } from "../../testing/pulumiMocks";

const KEY = testPrivateKey();
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedHostKeyPinnedHostKeyPinnedHostKeyPin";

const WEB1_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIWeb1HostKeyWeb1HostKeyWeb1HostKeyWeb1HostKe";
const existingConfig = {
  hosts: {
    exchange: { address: "10.0.0.10", hostKey: HOST_KEY },
    nodes: [
      { name: "web1", address: "10.0.0.11", disk: "/dev/nvme1n1", user: "admin", port: 2222, hostKey: WEB1_KEY },
      { name: "web2", address: "10.0.0.12", listenAddress: "10.0.0.12", hostKey: HOST_KEY },
    ],
  },
  sshPrivateKey: KEY,
  web: { enabled: true, port: 8080 },
};

async function settle(outputs: ReturnType<typeof buildProgram>) {
  await waitForRegistrations();
  return {
    clusterId: await resolve(outputs.clusterId),
    syncDir: await resolve(outputs.syncDir),
    exchange: await resolve(outputs.exchange),
    nodes: await resolve(outputs.nodes),
    securityGroupId: outputs.securityGroupId ? await resolve(outputs.securityGroupId) : undefined,
    syncPublicKeys: await resolve(outputs.syncPublicKeys),
  };
}

/** The consumer example's guards (examples/consumer/contract.ts) take what the program exports. */
function consumerAccepts(v: Awaited<ReturnType<typeof settle>>): void {
  expect(contract.isString(v.clusterId) && contract.isString(v.syncDir)).toBe(true);
  expect(contract.isHost(v.exchange)).toBe(true);
  expect(contract.isNodeList(v.nodes)).toBe(true);
  expect(contract.isStringMap(v.syncPublicKeys)).toBe(true);
}

describe("existing-hosts mode", () => {
  it("creates no AWS resource and exports the outputs contract", async () => {
    const rec = await installMocks();
    const out = buildProgram(existingConfig, pulumi.secret(KEY));
    const v = await settle(out);
    expect(rec.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    // Derived from project and stack: existing hosts need no provider but the program's own.
    expect(v.clusterId).toBe(existingClusterId("lsyncd-cluster", "test"));
    expect(v.clusterId).toMatch(/^[0-9a-f]{8}$/);
    expect(v.syncDir).toBe("/srv/pics");
    expect(v.exchange).toEqual({ name: "exchange", publicIp: "10.0.0.10", privateIp: "10.0.0.10" });
    expect(v.nodes).toEqual([
      { name: "web1", publicIp: "10.0.0.11", privateIp: "10.0.0.11", availabilityZone: null, url: "http://10.0.0.11:8080/" },
      { name: "web2", publicIp: "10.0.0.12", privateIp: "10.0.0.12", availabilityZone: null, url: "http://10.0.0.12:8080/" },
    ]);
    expect(v.securityGroupId).toBeUndefined();
    expect(Object.keys(v.syncPublicKeys).sort()).toEqual(["exchange", "web1", "web2"]);
    for (const key of Object.values(v.syncPublicKeys)) expect(key).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+$/);
    consumerAccepts(v);
  });

  it("connects with each host's own user and port, pins a configured host key, and uses sudo for non-root", async () => {
    const rec = await installMocks();
    await settle(buildProgram(existingConfig, pulumi.secret(KEY)));
    const conn = (name: string) => rec.named(name).inputs.connection.value;
    expect(conn("lsyncd-mesh-web1-ready")).toMatchObject({ host: "10.0.0.11", port: 2222, user: "admin" });
    expect(rec.named("lsyncd-mesh-web1-ready").inputs.create).toMatch(/^sudo -n bash -c /);
    expect(rec.named("lsyncd-mesh-exchange-ready").inputs.create).toMatch(/^bash -c /);
    expect(conn("lsyncd-mesh-exchange-ready").hostKey).toBe(HOST_KEY);
    // Every connection of every step pins its own host's key: none goes unchecked.
    for (const step of rec.ofType(REMOTE_STEP_TYPE)) {
      const host = step.name.startsWith("lsyncd-mesh-seed-") ? "exchange" : step.name.split("-")[2];
      expect([step.name, step.inputs.connection.value.hostKey]).toEqual([step.name, host === "web1" ? WEB1_KEY : HOST_KEY]);
    }
  });

  it("keeps the ssh key secret in every connection and out of every script and output", async () => {
    const rec = await installMocks();
    const out = await settle(buildProgram(existingConfig, pulumi.secret(KEY)));
    const body = KEY.split("\n")[1];
    const commands = rec.ofType(REMOTE_STEP_TYPE);
    expect(commands.length).toBeGreaterThan(20);
    for (const c of commands) {
      expect(c.inputs.connection["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
      expect(JSON.stringify([c.inputs.create, c.inputs.delete, c.inputs.triggers])).not.toContain(body);
    }
    expect(JSON.stringify(out)).not.toContain(body);
  });
});

describe("AWS mode", () => {
  const awsConfig = { operatorCidrs: ["198.51.100.7/32"], nodeCount: 2 };

  it("exports the outputs contract with a security group and node URLs", async () => {
    await installMocks({ calls: awsCalls });
    const out = buildProgram(awsConfig);
    const v = await settle(out);
    expect(v.exchange.name).toBe("exchange");
    // The Elastic IP (mocked in 198.51.100.0/24), which survives a stop/start.
    expect(v.exchange.publicIp).toMatch(/^198\.51\.100\.\d+$/);
    expect(v.exchange.privateIp).toMatch(/^10\.42\.\d+\.\d+$/);
    expect(v.nodes.map((n) => n.name)).toEqual(["node01", "node02"]);
    expect(v.nodes.map((n) => n.availabilityZone)).toEqual(["eu-central-1a", "eu-central-1b"]);
    for (const n of v.nodes) expect(n.url).toBe(`http://${n.publicIp}/`);
    expect(typeof v.securityGroupId).toBe("string");
    expect(Object.keys(v.syncPublicKeys).sort()).toEqual(["exchange", "node01", "node02"]);
    expect(await isSecret(out.operatorPrivateKey!)).toBe(true);
    consumerAccepts(v);
  });

  it("pushes over private addresses and reaches hosts on their public ones", async () => {
    const rec = await installMocks({ calls: awsCalls });
    const v = await settle(buildProgram(awsConfig));
    const trust = rec.named("lsyncd-mesh-node01-trust").inputs.create as string;
    expect(trust).toContain(Buffer.from(v.exchange.privateIp).toString("base64").slice(0, 8));
    const ready = rec.named("lsyncd-mesh-node01-ready");
    expect(ready.inputs.connection.value).toMatchObject({ host: v.nodes[0].publicIp, user: "admin" });
    // A booting instance may refuse SSH for minutes: the first step keeps dialing that long.
    expect(ready.inputs.dialSeconds).toBe(20 * 60);
    // The first step waits for the instance and its data volume to be attached.
    const depNames = ready.dependencies.map((u) => u.split("::").pop());
    expect(depNames).toEqual(expect.arrayContaining(["lsyncd-aws-node01-instance", "lsyncd-aws-node01-data-attachment"]));
  });

  it("disables web: no web steps, no URLs", async () => {
    const rec = await installMocks({ calls: awsCalls });
    const v = await settle(buildProgram({ ...awsConfig, web: { enabled: false } }));
    expect(v.nodes.every((n) => n.url === null)).toBe(true);
    expect(rec.resources.filter((r) => r.name.endsWith("-web"))).toEqual([]);
  });
});

describe("bad config", () => {
  it("stops before any resource exists, naming every bad key at once", async () => {
    const rec = await installMocks({ calls: awsCalls });
    let message = "";
    try {
      buildProgram({ hosts: { exchange: {}, nodes: [{ address: "10.0.0.2" }] }, syncDir: "srv/pics", sshPrivateKey: KEY });
    } catch (e) {
      expect(e).toBeInstanceOf(pulumi.RunError);
      message = (e as Error).message;
    }
    expect(message).toContain("[hosts.exchange.address]");
    expect(message).toContain("[syncDir]");
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.resources).toEqual([]);
  });
});
