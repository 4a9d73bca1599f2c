import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, asRecord } from "./props";

export const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
export const DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
export const SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

const SSH_PORT = 22;

/** One ingress permission, whatever resource type it came from. */
interface Ingress {
    /** Where it is, for the message: `security group "web" ingress[1]`. */
    where: string;
    protocol: unknown;
    fromPort: unknown;
    toPort: unknown;
    cidrs: unknown[];
}

/** "-1" / "all" (any case, or the number -1) mean every protocol and every port. */
export function isAllTraffic(protocol: unknown): boolean {
    const p = String(protocol).trim().toLowerCase();
    return p === "-1" || p === "all";
}

/** SSH is TCP. An unset protocol is treated as TCP so that a malformed rule cannot slip through. */
function isTcp(protocol: unknown): boolean {
    if (protocol === undefined || protocol === null) {
        return true;
    }
    const p = String(protocol).trim().toLowerCase();
    return p === "tcp" || p === "6";
}

/** fromPort <= 22 <= toPort; a missing bound is open-ended. */
function rangeCovers(fromPort: unknown, toPort: unknown, port: number): boolean {
    const lo = fromPort === undefined || fromPort === null ? -Infinity : Number(fromPort);
    const hi = toPort === undefined || toPort === null ? Infinity : Number(toPort);
    if (Number.isNaN(lo) || Number.isNaN(hi)) {
        return true; // unparseable: do not guess in the permissive direction
    }
    return lo <= port && port <= hi;
}

/** Any prefix length of 0 is the whole address space: 0.0.0.0/0, ::/0, ::0/0 ... */
export function isWholeInternet(cidr: unknown): cidr is string {
    return typeof cidr === "string" && /\/0+$/.test(cidr.trim());
}

function ingressesOf(args: ResourceValidationArgs): Ingress[] {
    const props = args.props;
    switch (args.type) {
        case SECURITY_GROUP:
        case DEFAULT_SECURITY_GROUP:
            return asArray(props.ingress).map((raw, i) => {
                const rule = asRecord(raw) ?? {};
                return {
                    where: `security group "${args.name}" ingress[${i}]`,
                    protocol: rule.protocol,
                    fromPort: rule.fromPort,
                    toPort: rule.toPort,
                    cidrs: [...asArray(rule.cidrBlocks), ...asArray(rule.ipv6CidrBlocks)],
                };
            });
        case SECURITY_GROUP_INGRESS_RULE:
            return [
                {
                    where: `security group ingress rule "${args.name}"`,
                    protocol: props.ipProtocol,
                    fromPort: props.fromPort,
                    toPort: props.toPort,
                    cidrs: [props.cidrIpv4, props.cidrIpv6],
                },
            ];
        case SECURITY_GROUP_RULE:
            if (props.type !== "ingress") {
                return [];
            }
            return [
                {
                    where: `security group rule "${args.name}"`,
                    protocol: props.protocol,
                    fromPort: props.fromPort,
                    toPort: props.toPort,
                    cidrs: [...asArray(props.cidrBlocks), ...asArray(props.ipv6CidrBlocks)],
                },
            ];
        default:
            return [];
    }
}

/**
 * Refuses any ingress permission that lets the whole internet (a /0 IPv4 or IPv6 range)
 * reach TCP port 22, either through a port range that covers 22 or through an
 * all-traffic ("-1"/"all") rule.
 */
export function validateNoPublicSsh(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    for (const ingress of ingressesOf(args)) {
        let what: string;
        if (isAllTraffic(ingress.protocol)) {
            what = `all traffic (protocol ${String(ingress.protocol)})`;
        } else if (isTcp(ingress.protocol) && rangeCovers(ingress.fromPort, ingress.toPort, SSH_PORT)) {
            what = `tcp ports ${String(ingress.fromPort ?? "*")}-${String(ingress.toPort ?? "*")}`;
        } else {
            continue;
        }
        for (const cidr of ingress.cidrs.filter(isWholeInternet)) {
            reportViolation(
                `${ingress.where} allows ${what} from ${cidr}, which opens SSH (port 22) to the whole internet. ` +
                    "Allow SSH only from the operator CIDRs.",
            );
        }
    }
}

export const noPublicSshPolicy: ResourceValidationPolicy = {
    name: "no-public-ssh-ingress",
    description: "Security group ingress must not open SSH (TCP 22, or all traffic) to 0.0.0.0/0 or ::/0.",
    severity: "critical",
    validateResource: validateNoPublicSsh,
};
