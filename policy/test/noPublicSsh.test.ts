import {
    DEFAULT_SECURITY_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SECURITY_GROUP_RULE,
    validateNoPublicSsh,
} from "../rules/noPublicSsh";
import { makeArgs, policyProxy, violations } from "./helpers";

const tail = "which opens SSH (port 22) to the whole internet. Allow SSH only from the operator CIDRs.";
const check = (type: string, name: string, props: Record<string, unknown>) =>
    violations(validateNoPublicSsh, type, name, props);

describe("no-public-ssh-ingress: failing cases", () => {
    test("inline SecurityGroup ingress tcp 22 from 0.0.0.0/0", async () => {
        const msgs = await check(SECURITY_GROUP, "cluster", {
            ingress: [
                { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] },
                { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.0/24", "0.0.0.0/0"] },
            ],
        });
        expect(msgs).toEqual([`security group "cluster" ingress[1] allows tcp ports 22-22 from 0.0.0.0/0, ${tail}`]);
    });

    test("inline SecurityGroup ingress with a port range covering 22 from ::/0", async () => {
        const msgs = await check(SECURITY_GROUP, "cluster", {
            ingress: [{ protocol: "6", fromPort: 0, toPort: 1024, ipv6CidrBlocks: ["::/0"] }],
        });
        expect(msgs).toEqual([`security group "cluster" ingress[0] allows tcp ports 0-1024 from ::/0, ${tail}`]);
    });

    test("inline SecurityGroup all-traffic ingress (protocol -1) reports each world CIDR", async () => {
        const msgs = await check(SECURITY_GROUP, "open", {
            ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
        });
        expect(msgs).toEqual([
            `security group "open" ingress[0] allows all traffic (protocol -1) from 0.0.0.0/0, ${tail}`,
            `security group "open" ingress[0] allows all traffic (protocol -1) from ::/0, ${tail}`,
        ]);
    });

    test("DefaultSecurityGroup inline ingress is checked too", async () => {
        const msgs = await check(DEFAULT_SECURITY_GROUP, "default", {
            ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
        });
        expect(msgs).toEqual([`security group "default" ingress[0] allows tcp ports 22-22 from 0.0.0.0/0, ${tail}`]);
    });

    test("vpc SecurityGroupIngressRule tcp 22 from 0.0.0.0/0", async () => {
        const msgs = await check(SECURITY_GROUP_INGRESS_RULE, "ssh-world", {
            securityGroupId: "sg-123",
            ipProtocol: "tcp",
            fromPort: 22,
            toPort: 22,
            cidrIpv4: "0.0.0.0/0",
        });
        expect(msgs).toEqual([`security group ingress rule "ssh-world" allows tcp ports 22-22 from 0.0.0.0/0, ${tail}`]);
    });

    test("vpc SecurityGroupIngressRule all protocols from ::/0 (no ports given)", async () => {
        const msgs = await check(SECURITY_GROUP_INGRESS_RULE, "all-v6", {
            securityGroupId: "sg-123",
            ipProtocol: "-1",
            cidrIpv6: "::/0",
        });
        expect(msgs).toEqual([`security group ingress rule "all-v6" allows all traffic (protocol -1) from ::/0, ${tail}`]);
    });

    test("ec2 SecurityGroupRule of type ingress, protocol all", async () => {
        const msgs = await check(SECURITY_GROUP_RULE, "legacy", {
            type: "ingress",
            securityGroupId: "sg-123",
            protocol: "all",
            fromPort: 0,
            toPort: 65535,
            cidrBlocks: ["0.0.0.0/0"],
        });
        expect(msgs).toEqual([`security group rule "legacy" allows all traffic (protocol all) from 0.0.0.0/0, ${tail}`]);
    });

    test("ec2 SecurityGroupRule of type ingress, tcp 20-25 from ::/0", async () => {
        const msgs = await check(SECURITY_GROUP_RULE, "legacy-v6", {
            type: "ingress",
            securityGroupId: "sg-123",
            protocol: "tcp",
            fromPort: 20,
            toPort: 25,
            ipv6CidrBlocks: ["::/0"],
        });
        expect(msgs).toEqual([`security group rule "legacy-v6" allows tcp ports 20-25 from ::/0, ${tail}`]);
    });
});

describe("no-public-ssh-ingress: passing cases", () => {
    test("SSH from operator CIDRs only, HTTP from anywhere", async () => {
        const msgs = await check(SECURITY_GROUP, "cluster", {
            ingress: [
                { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.7/32"], ipv6CidrBlocks: ["2001:db8::/64"] },
                { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
                { protocol: "tcp", fromPort: 22, toPort: 22, self: true },
            ],
            egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
        });
        expect(msgs).toEqual([]);
    });

    test("a security group without inline ingress", async () => {
        expect(await check(SECURITY_GROUP, "empty", { description: "rules are separate" })).toEqual([]);
    });

    test("vpc SecurityGroupIngressRule for HTTPS from anywhere, SSH from a peer group", async () => {
        expect(
            await check(SECURITY_GROUP_INGRESS_RULE, "https", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
        ).toEqual([]);
        expect(
            await check(SECURITY_GROUP_INGRESS_RULE, "ssh-peers", {
                ipProtocol: "tcp",
                fromPort: 22,
                toPort: 22,
                referencedSecurityGroupId: "sg-peers",
            }),
        ).toEqual([]);
    });

    test("ec2 SecurityGroupRule of type egress to the world is not ingress", async () => {
        const msgs = await check(SECURITY_GROUP_RULE, "egress", {
            type: "egress",
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
        });
        expect(msgs).toEqual([]);
    });

    test("UDP and ICMP are not SSH", async () => {
        const msgs = await check(SECURITY_GROUP, "misc", {
            ingress: [
                { protocol: "udp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] },
                { protocol: "icmp", fromPort: -1, toPort: -1, cidrBlocks: ["0.0.0.0/0"] },
            ],
        });
        expect(msgs).toEqual([]);
    });

    test("other resource types are ignored", async () => {
        expect(await check("aws:ec2/instance:Instance", "node01", { ingress: [{ protocol: "-1", cidrBlocks: ["0.0.0.0/0"] }] })).toEqual(
            [],
        );
    });
});

test("an unknown CIDR (preview) raises the policy SDK's UnknownValueError, which the server reports as advisory", () => {
    const args = makeArgs(SECURITY_GROUP_INGRESS_RULE, "later", {
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: policyProxy.unknownStringValue,
    });
    expect(() => validateNoPublicSsh(args, jest.fn())).toThrow(policyProxy.UnknownValueError);
});
