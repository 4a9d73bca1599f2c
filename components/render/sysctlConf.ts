// /etc/sysctl.d file raising the inotify limits: lsyncd needs one watch per directory,
// and the kernel defaults (8192 watches on older kernels, 16384 queued events) are what
// the article ran out of.
import { InotifySpec } from "../spec";

export function renderSysctlConf(spec: InotifySpec): string {
  // Defence in depth: config validated these (configSchema.ts); sysctl text has no quoting.
  for (const [key, value] of Object.entries(spec)) {
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`inotify.${key} must be a positive integer, got ${value}`);
    }
  }
  return [
    "# Managed by lsyncd-cluster; local edits are overwritten.",
    `fs.inotify.max_user_watches = ${spec.maxUserWatches}`,
    `fs.inotify.max_queued_events = ${spec.maxQueuedEvents}`,
    `fs.inotify.max_user_instances = ${spec.maxUserInstances}`,
    "",
  ].join("\n");
}
