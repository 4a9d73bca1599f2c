// Host names shared by both modes, so outputs, resource names and ssh aliases read alike.
// Pure: the config layer and the AWS layer both use it.

/** node01, node02, ... node99, node100: never re-padded, which would rename every node. */
export function nodeName(index: number): string {
  return `node${String(index + 1).padStart(2, "0")}`;
}
