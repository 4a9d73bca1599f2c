// lsyncd-cluster: read stack config, build one SyncCluster, export the outputs contract.
import { stackProgram } from "./components/program";

const outputs = stackProgram();

export const clusterId = outputs.clusterId;
export const syncDir = outputs.syncDir;
export const exchange = outputs.exchange;
export const nodes = outputs.nodes;
export const securityGroupId = outputs.securityGroupId;
export const syncPublicKeys = outputs.syncPublicKeys;
/** Secret: the operator key the program generated (AWS mode), for `ssh -i`. */
export const operatorPrivateKey = outputs.operatorPrivateKey;
