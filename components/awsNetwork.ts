// A VPC of the cluster's own, so its security groups and routes cannot be loosened by, or
// loosen, anything else in the account.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Tags for one resource, given the Name suffix after `lsc-<clusterId>-`. */
export type Tagger = (suffix: string) => pulumi.Output<Record<string, string>>;

export interface ClusterNetworkArgs {
  /** Builds each resource's tags (cluster id, Name) so two stacks can share an account. */
  readonly tags: Tagger;
  /** Start of every name AWS must keep unique, e.g. `lsc-<clusterId>-`. */
  readonly namePrefix: pulumi.Input<string>;
  /**
   * How many availability zones get a public subnet. The region must offer at least this
   * many; otherwise the deployment fails before any subnet is created, naming the zones.
   */
  readonly availabilityZones: number;
  /** CIDRs that may reach SSH on every host. A rule open to the whole internet is refused. */
  readonly operatorCidrs: readonly string[];
  /** HTTP on the web nodes: the port nginx listens on and who may reach it. Absent = no web security group. */
  readonly web?: { readonly port: number; readonly cidrs: readonly string[] };
}

/** One public subnet and the zone it is in. */
export interface PublicSubnet {
  readonly id: pulumi.Output<string>;
  readonly availabilityZone: pulumi.Output<string>;
}

const VPC_CIDR = "10.42.0.0/16";
const SSH_PORT = 22;

export class ClusterNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  /** One per availability zone, in the region's zone order. */
  public readonly subnets: readonly PublicSubnet[];
  /** On every host: SSH from the operator, all egress. */
  public readonly clusterSecurityGroupId: pulumi.Output<string>;
  /** On the exchange only: SSH from the nodes' group. */
  public readonly exchangeSecurityGroupId: pulumi.Output<string>;
  /** On every node: SSH from the exchange's group. */
  public readonly nodeSecurityGroupId: pulumi.Output<string>;
  /** On web nodes only, when web is enabled: HTTP from the web CIDRs. */
  public readonly webSecurityGroupId: pulumi.Output<string> | undefined;
  /**
   * What must exist before a host can reach the internet (route, subnet associations,
   * egress rule): hosts depend on these so "host exists" means "host reachable".
   */
  public readonly internetReady: readonly pulumi.Resource[];

  constructor(name: string, args: ClusterNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:aws:ClusterNetwork", name, {}, opts);

    if (!Number.isInteger(args.availabilityZones) || args.availabilityZones < 1) {
      throw new Error(`[availabilityZones] must be a whole number of 1 or more; got ${args.availabilityZones}`);
    }
    for (const cidr of args.operatorCidrs) {
      if (isWholeInternet(cidr)) {
        // Validation should have refused it already; SSH open to everyone is the one
        // mistake this component will not make even when asked to.
        throw new Error(
          `[operatorCidrs] must not open SSH to the whole internet, give the operator's own range such as "203.0.113.7/32"; got "${cidr}"`,
        );
      }
    }

    const wanted = args.availabilityZones;
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this }).apply((found) => {
      if (found.names.length < wanted) {
        const region = found.region || found.id;
        // A RunError is reported once, without a stack trace: this is a config mistake, not a bug.
        // Same shape as the config validation's errors: `[key] what is accepted; got value`.
        throw new pulumi.RunError(
          `[availabilityZones] must be at most ${found.names.length}: region ${region} has only ` +
            `${found.names.length} available (${found.names.join(", ") || "none"}); got ${wanted}. ` +
            `Lower availabilityZones or deploy to another region`,
        );
      }
      return found.names.slice(0, wanted);
    });

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: VPC_CIDR, enableDnsSupport: true, enableDnsHostnames: true, tags: args.tags("vpc") },
      { parent: this },
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: args.tags("igw") }, { parent: this });
    const routeTable = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, tags: args.tags("public") }, { parent: this });
    // A separate Route rather than an inline one: mixing both on one table makes them fight.
    const internetRoute = new aws.ec2.Route(
      `${name}-internet-route`,
      { routeTableId: routeTable.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id },
      { parent: this },
    );

    const subnets: PublicSubnet[] = [];
    const associations: aws.ec2.RouteTableAssociation[] = [];
    for (let i = 0; i < wanted; i++) {
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: `10.42.${i}.0/24`,
          availabilityZone: zones.apply((z) => z[i]),
          // Hosts need a public address for the operator's SSH and for apt (no NAT gateway).
          mapPublicIpOnLaunch: true,
          tags: args.tags(`public-${i}`),
        },
        { parent: this },
      );
      associations.push(
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${i}-rta`,
          { subnetId: subnet.id, routeTableId: routeTable.id },
          { parent: this },
        ),
      );
      subnets.push({ id: subnet.id, availabilityZone: subnet.availabilityZone });
    }

    const clusterSg = new aws.ec2.SecurityGroup(
      `${name}-cluster-sg`,
      {
        vpcId: vpc.id,
        // A prefix, not a fixed name: a replacement group can exist next to the old one.
        namePrefix: pulumi.interpolate`${args.namePrefix}cluster-`,
        // Kept as it was: a changed description replaces the group (and touches every host).
        description: "lsyncd-cluster: SSH from operators and between cluster hosts",
        tags: args.tags("cluster"),
      },
      { parent: this },
    );
    for (const cidr of unique(args.operatorCidrs)) {
      new aws.vpc.SecurityGroupIngressRule(
        // Named by CIDR, not list position: removing one entry must not recreate the others
        // (a recreated rule is created before the old one is deleted and AWS rejects the duplicate).
        `${name}-ssh-from-${cidrSlug(cidr)}`,
        {
          securityGroupId: clusterSg.id,
          ipProtocol: "tcp",
          fromPort: SSH_PORT,
          toPort: SSH_PORT,
          ...cidrInput(cidr),
          description: "SSH from an operator",
          tags: args.tags("ssh-operator"),
        },
        { parent: this },
      );
    }
    // Pushes go node -> exchange and exchange -> node only (lsyncd -> rsync -> the peer's
    // forced rsync daemon); nothing ever connects node to node, so a stolen node key (or a
    // taken-over node) cannot reach the other nodes' sshd at all. One group per role, each
    // admitting SSH from the other role's group only.
    const roleSg = (role: "exchange" | "node", description: string) =>
      new aws.ec2.SecurityGroup(
        `${name}-${role}-sg`,
        {
          vpcId: vpc.id,
          namePrefix: pulumi.interpolate`${args.namePrefix}${role}-`,
          description,
          tags: args.tags(role),
        },
        { parent: this },
      );
    const exchangeSg = roleSg("exchange", "lsyncd-cluster: the exchange, reached over SSH by the nodes");
    const nodeSg = roleSg("node", "lsyncd-cluster: the nodes, reached over SSH by the exchange");
    const sshFrom = (to: aws.ec2.SecurityGroup, from: aws.ec2.SecurityGroup, what: string) =>
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-ssh-${what}`,
        {
          securityGroupId: to.id,
          ipProtocol: "tcp",
          fromPort: SSH_PORT,
          toPort: SSH_PORT,
          referencedSecurityGroupId: from.id,
          description: `SSH ${what.replace(/-/g, " ")} (sync pushes)`,
          tags: args.tags(`ssh-${what}`),
        },
        { parent: this },
      );
    sshFrom(exchangeSg, nodeSg, "nodes-to-exchange");
    sshFrom(nodeSg, exchangeSg, "exchange-to-nodes");
    // An aws.ec2.SecurityGroup starts with no egress at all (the provider removes AWS's
    // default rule), and apt needs the internet.
    const egress = new aws.vpc.SecurityGroupEgressRule(
      `${name}-egress-all`,
      {
        securityGroupId: clusterSg.id,
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
        description: "All outbound (apt)",
        tags: args.tags("egress"),
      },
      { parent: this },
    );

    let webSecurityGroupId: pulumi.Output<string> | undefined;
    if (args.web !== undefined) {
      const web = args.web;
      const webSg = new aws.ec2.SecurityGroup(
        `${name}-web-sg`,
        {
          vpcId: vpc.id,
          namePrefix: pulumi.interpolate`${args.namePrefix}web-`,
          description: "lsyncd-cluster: HTTP to the web nodes",
          tags: args.tags("web"),
        },
        { parent: this },
      );
      for (const cidr of unique(web.cidrs)) {
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-http-from-${cidrSlug(cidr)}`,
          {
            securityGroupId: webSg.id,
            ipProtocol: "tcp",
            fromPort: web.port,
            toPort: web.port,
            ...cidrInput(cidr),
            description: "HTTP to the web nodes",
            tags: args.tags("http"),
          },
          { parent: this },
        );
      }
      webSecurityGroupId = webSg.id;
    }

    this.vpcId = vpc.id;
    this.subnets = subnets;
    this.clusterSecurityGroupId = clusterSg.id;
    this.exchangeSecurityGroupId = exchangeSg.id;
    this.nodeSecurityGroupId = nodeSg.id;
    this.webSecurityGroupId = webSecurityGroupId;
    this.internetReady = [internetRoute, ...associations, egress];

    this.registerOutputs({
      vpcId: this.vpcId,
      subnets: this.subnets,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      exchangeSecurityGroupId: this.exchangeSecurityGroupId,
      nodeSecurityGroupId: this.nodeSecurityGroupId,
      webSecurityGroupId: this.webSecurityGroupId,
    });
  }
}

/** True for a CIDR with prefix length 0: every address of its family. */
function isWholeInternet(cidr: string): boolean {
  const prefix = cidr.split("/")[1];
  return prefix !== undefined && Number(prefix) === 0;
}

/** Config admits IPv4 CIDRs only (configSchema.ts); the VPC has no IPv6. */
function cidrInput(cidr: string): { cidrIpv4: string } {
  return { cidrIpv4: cidr };
}

/** A CIDR as a resource-name fragment: `203.0.113.0/24` -> `203-0-113-0-24`. */
function cidrSlug(cidr: string): string {
  return cidr.replace(/[^0-9A-Za-z]+/g, "-").replace(/^-|-$/g, "");
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
