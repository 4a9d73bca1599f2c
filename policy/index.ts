// lsyncd-cluster-guardrails: mandatory policies for the lsyncd-cluster program.
//
//   npm ci --prefix policy
//   pulumi preview --policy-pack policy
//
// Each rule lives in ./rules with its validator exported, so test/ can call it directly.
import { PolicyPack } from "@pulumi/policy";
import { encryptedStoragePolicy } from "./rules/encryptedStorage";
import { imdsv2Policy } from "./rules/imdsv2";
import { noHostKeyBypassPolicy } from "./rules/noHostKeyBypass";
import { noPublicSshPolicy } from "./rules/noPublicSsh";

export const policies = [noPublicSshPolicy, encryptedStoragePolicy, imdsv2Policy, noHostKeyBypassPolicy];

new PolicyPack("lsyncd-cluster-guardrails", {
    enforcementLevel: "mandatory",
    description: "No world-open SSH, encrypted EBS, IMDSv2 only, SSH host keys always checked.",
    policies,
});
