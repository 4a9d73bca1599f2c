// Which cluster host a server is. The ready step writes the host's name on the server; every
// delete first checks it. Pulumi runs the deletes of resources that left the program after
// all creates, from the state of the last `up` (pkg/resource/deploy/deployment_executor.go):
// when a host was renamed, or its address now belongs to another host of the cluster, the
// new steps have already claimed the server, and the old deletes must not undo their work.
import { sh } from "../quote";
import { HOST_NAME_FILE } from "../hostLayout";

/** Lines for the ready step's create: claim the server for `hostName`. */
export function claimServer(hostName: string): string[] {
  return [`printf '%s\\n' ${sh(hostName)} >${sh(`${HOST_NAME_FILE}.tmp`)}`, `mv -f ${sh(`${HOST_NAME_FILE}.tmp`)} ${sh(HOST_NAME_FILE)}`];
}

/** Lines for the ready step's delete: release the claim, if it is still ours. */
export function releaseServer(hostName: string): string[] {
  return [`if [ "$(cat -- ${sh(HOST_NAME_FILE)} 2>/dev/null)" = ${sh(hostName)} ]; then rm -f -- ${sh(HOST_NAME_FILE)}; fi`];
}

/**
 * A shell prefix for every delete of a step of `hostName`: exit 0, doing nothing, when the
 * server now belongs to another host of the cluster.
 */
export function ownerGuard(hostName: string): string {
  return [
    `lsc_owner=$(cat -- ${sh(HOST_NAME_FILE)} 2>/dev/null || true)`,
    `if [ -n "$lsc_owner" ] && [ "$lsc_owner" != ${sh(hostName)} ]; then`,
    `  printf 'this server is now host %s of the cluster: the delete of a step of %s leaves it as it is\\n' "$lsc_owner" ${sh(hostName)}`,
    "  exit 0",
    "fi",
    "",
  ].join("\n");
}
