// disk: make the fast disk the sync dir (the scripts are sh/disk-*.sh; they say how). This
// renderer only picks the script and fills in the values.
import { script } from "./bash";
import { filled } from "./scriptFile";

/** Which block device holds the sync dir, as the disk step finds it on the host. */
export type DiskSource =
  | { readonly kind: "none" }
  | { readonly kind: "device"; readonly path: string }
  | { readonly kind: "ebs"; readonly volumeId: string }
  | { readonly kind: "instance-store" };

const FSTAB_MARK = "# lsyncd-cluster";

/**
 * The sync dir holds whatever peers push: nothing in it may run as a program, gain
 * privileges (setuid) or act as a device, even if a mode or node slips past the rsync
 * daemon's own refusals (rsyncdConf.ts).
 */
export const SAFE_MOUNT_OPTIONS = ["nosuid", "nodev", "noexec"] as const;

/** The device the disk step waits for, as the scripts name it. */
function wanted(disk: Exclude<DiskSource, { kind: "none" }>): string {
  switch (disk.kind) {
    case "device":
      return disk.path;
    case "ebs":
      // Defence in depth (the volume id comes from the EC2 API, not from config).
      if (!/^vol-[0-9a-f]+$/.test(disk.volumeId)) throw new Error(`not an EBS volume id: ${JSON.stringify(disk.volumeId)}`);
      // Nitro exposes EBS as NVMe with the volume id (without the dash) as its serial.
      return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${disk.volumeId.replace("-", "")}`;
    case "instance-store":
      return "the first instance-store NVMe disk";
    default: {
      const never: never = disk;
      throw new Error(`unknown disk ${JSON.stringify(never)}`);
    }
  }
}

const common = (syncDir: string) => ({ dir: syncDir, safe_options: SAFE_MOUNT_OPTIONS.join(","), mark: FSTAB_MARK });

/** sh/disk-device.sh on a device, sh/disk-bind.sh without one (the sync dir on the root filesystem). */
export function diskCreate(syncDir: string, disk: DiskSource): string {
  if (disk.kind === "none") return script(filled(common(syncDir), "disk-lib.sh", "disk-bind.sh"));
  return script(filled({ ...common(syncDir), kind: disk.kind, want: wanted(disk) }, "disk-lib.sh", "disk-device.sh"));
}

/** sh/disk-delete.sh: our mount and fstab line go; the filesystem and its files stay. */
export function diskDelete(syncDir: string, onDevice: boolean): string {
  return script(filled({ ...common(syncDir), on_device: onDevice ? "yes" : "no" }, "disk-lib.sh", "disk-delete.sh"));
}
