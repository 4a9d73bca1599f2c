// Example consumer of the lsyncd-cluster stack (see README.md in this folder).
//
//   pulumi config set clusterStack <org>/lsyncd-cluster/<stack>
//   pulumi preview
import * as pulumi from "@pulumi/pulumi";
import { expectOutput, isHost, isNodeList, isString, isStringMap, NodeOutput } from "./contract";

const config = new pulumi.Config();
const cluster = new pulumi.StackReference(config.require("clusterStack"));

// requireOutput fails the preview when the output is missing; the guards fail it when the
// output is there but not of the agreed shape.
const nodes: pulumi.Output<NodeOutput[]> = cluster
    .requireOutput("nodes")
    .apply(expectOutput("nodes", isNodeList, "[{ name, publicIp, privateIp, availabilityZone: string | null, url: string | null }]"));

export const clusterId = cluster.requireOutput("clusterId").apply(expectOutput("clusterId", isString, "a string"));
export const syncDir = cluster.requireOutput("syncDir").apply(expectOutput("syncDir", isString, "a string"));
export const exchangePrivateIp = cluster
    .requireOutput("exchange")
    .apply(expectOutput("exchange", isHost, "{ name, publicIp, privateIp }"))
    .apply((exchange) => exchange.privateIp);

/** Base URLs of the nodes that serve the synced images (nodes with web disabled have url null). */
export const imageBaseUrls = nodes.apply((ns) => ns.flatMap((n) => (n.url === null ? [] : [n.url])));

/** Node name -> availability zone (null for existing, non-AWS hosts). */
export const nodeZones = nodes.apply((ns) => Object.fromEntries(ns.map((n): [string, string | null] => [n.name, n.availabilityZone])));

/** Public keys of the sync users, e.g. for an external host that should accept pushes. */
export const syncPublicKeys = cluster
    .requireOutput("syncPublicKeys")
    .apply(expectOutput("syncPublicKeys", isStringMap, "a map of host name to public key"));

/** AWS mode only: undefined when the cluster runs on existing hosts. */
export const securityGroupId = cluster
    .getOutput("securityGroupId")
    .apply((v: unknown) => (v === undefined || v === null ? undefined : expectOutput("securityGroupId", isString, "a string")(v)));
