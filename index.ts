// lsyncd-cluster: read stack config, build one SyncCluster, export the outputs contract
// (components/outputs.ts) as the stack's outputs, one export per field.
import { stackProgram } from "./components/program";

export = stackProgram();
