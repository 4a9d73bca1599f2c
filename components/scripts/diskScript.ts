// disk: make the fast disk the sync dir. mkfs runs only when blkid finds no filesystem
// and no partition table, so a second run, or a disk that already holds images, is never
// wiped. The mount is by UUID with nofail: a missing disk never blocks boot, and lsyncd's
// unit refuses to start on the bare mount point (RequiresMountsFor).
import { sh } from "../quote";
import { script } from "./bash";

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

/** Shell lines that write `$line` as our one fstab line (every other line kept byte for byte). */
const writeFstabLine = [
  `if ! grep -qxF "$line" /etc/fstab; then`,
  "  tmp=$(mktemp /etc/fstab.lsc-XXXXXX)",
  `  grep -vF ${sh(FSTAB_MARK)} /etc/fstab >"$tmp" || [ "$?" -eq 1 ]`,
  `  printf '%s\\n' "$line" >>"$tmp"`,
  '  chmod 0644 "$tmp"',
  '  mv -f "$tmp" /etc/fstab',
  "fi",
];

/** Shell lines that add the safe options to the mount at $dir when it lacks any of them. */
const ensureSafeOptions = (bind: boolean) => [
  'opts=",$(findmnt -n -o OPTIONS --mountpoint "$dir"),"',
  `for o in ${SAFE_MOUNT_OPTIONS.join(" ")}; do`,
  '  case "$opts" in *",$o,"*) ;; *)',
  `    mount -o remount,${bind ? "bind," : ""}${SAFE_MOUNT_OPTIONS.join(",")} "$dir"`,
  "    break ;;",
  "  esac",
  "done",
];

/** Shell lines that set $dev to the device path, waiting for it to appear. */
function findDevice(disk: Exclude<DiskSource, { kind: "none" }>): string[] {
  switch (disk.kind) {
    case "device":
      return [`want=${sh(disk.path)}`, 'find_dev() { [ -b "$want" ] && echo "$want"; }'];
    case "ebs": {
      if (!/^vol-[0-9a-f]+$/.test(disk.volumeId)) {
        throw new Error(`not an EBS volume id: ${JSON.stringify(disk.volumeId)}`);
      }
      // Nitro exposes EBS as NVMe with the volume id (without the dash) as serial; the
      // kernel's name (nvme1n1, ...) depends on attach order and is never guessed.
      const serial = disk.volumeId.replace("-", "");
      return [`want=${sh(`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serial}`)}`, 'find_dev() { [ -b "$want" ] && echo "$want"; }'];
    }
    case "instance-store":
      return [
        "find_dev() {",
        "  local d",
        "  for d in /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*; do",
        '    case "$d" in *-part*) continue ;; esac',
        '    if [ -b "$d" ]; then echo "$d"; return 0; fi',
        "  done",
        "  return 1",
        "}",
        "want='the first instance-store NVMe disk'",
      ];
    default: {
      const never: never = disk;
      throw new Error(`unknown disk ${JSON.stringify(never)}`);
    }
  }
}

export function diskCreate(syncDir: string, disk: DiskSource): string {
  if (disk.kind === "none") {
    // The sync dir on the root filesystem: a bind mount of itself carries the safe options
    // (an fstab line of ours keeps it across reboots). A dir that is already some other
    // mount point is left as it is, only its options are added.
    return script([
      `dir=${sh(syncDir)}`,
      'install -d -m 0755 "$dir"',
      'if ! mountpoint -q "$dir" || grep -qF "$dir $dir none bind," /etc/fstab; then',
      `  line="$dir $dir none bind,${SAFE_MOUNT_OPTIONS.join(",")},nofail 0 0 ${FSTAB_MARK}"`,
      ...writeFstabLine.map((l) => `  ${l}`),
      '  mountpoint -q "$dir" || mount --bind "$dir" "$dir"',
      "fi",
      ...ensureSafeOptions(true),
    ]);
  }
  return script([
    `dir=${sh(syncDir)}`,
    ...findDevice(disk),
    "dev=",
    "for _ in $(seq 1 90); do",
    "  if dev=$(find_dev); then break; fi",
    "  dev=",
    "  sleep 2",
    "done",
    '[ -n "$dev" ] || { echo "disk $want did not appear within 180 s" >&2; exit 1; }',
    'dev=$(readlink -f "$dev")',
    // blkid exits 2 when it finds nothing: that, and only that, means "empty".
    'rc=0; fstype=$(blkid -p -o value -s TYPE "$dev") || rc=$?',
    'if [ "$rc" -eq 2 ]; then fstype=""; elif [ "$rc" -ne 0 ]; then echo "blkid failed on $dev (exit $rc)" >&2; exit "$rc"; fi',
    'rc=0; pttype=$(blkid -p -o value -s PTTYPE "$dev") || rc=$?',
    'if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then echo "blkid failed on $dev (exit $rc)" >&2; exit "$rc"; fi',
    'if [ -z "$fstype" ] && [ -n "$pttype" ]; then',
    '  echo "$dev has a $pttype partition table but no filesystem: refusing to format it; give a partition or wipe it yourself" >&2',
    "  exit 1",
    "fi",
    'if [ -z "$fstype" ]; then',
    // nodiscard: discarding a fresh EBS volume only costs time; lazy init lets it mount at once.
    '  mkfs.ext4 -q -m 0 -L lsc-sync -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 "$dev"',
    "  fstype=ext4",
    "fi",
    'uuid=$(blkid -p -o value -s UUID "$dev")',
    '[ -n "$uuid" ] || { echo "$dev has a $fstype filesystem without a UUID" >&2; exit 1; }',
    'install -d -m 0755 "$dir"',
    `line="UUID=$uuid $dir $fstype defaults,nofail,noatime,${SAFE_MOUNT_OPTIONS.join(",")},x-systemd.device-timeout=30s 0 2 ${FSTAB_MARK}"`,
    // Rewrite only our own line; every other fstab line is kept byte for byte.
    ...writeFstabLine,
    'if mountpoint -q "$dir"; then',
    '  mounted=$(findmnt -n -o SOURCE --mountpoint "$dir")',
    '  if [ "$(readlink -f "$mounted")" != "$dev" ]; then',
    '    echo "$dir is already a mount of $mounted, not of $dev" >&2; exit 1',
    "  fi",
    "else",
    // Mounting over files would hide them from nginx and lsyncd alike.
    '  if [ -n "$(ls -A "$dir")" ]; then',
    '    echo "$dir is not empty: refusing to mount $dev over it (move its files onto the disk first)" >&2; exit 1',
    "  fi",
    '  mount "$dir"',
    "fi",
    // A disk mounted by an earlier version (or by hand) gets the safe options now.
    ...ensureSafeOptions(false),
  ]);
}

export function diskDelete(syncDir: string, onDevice: boolean): string {
  if (!onDevice) {
    // The directory holds the synced images: destroying the cluster never deletes data.
    // Only our bind mount of it (and its fstab line) goes.
    return script([
      `dir=${sh(syncDir)}`,
      `if grep -qF "$dir $dir none bind," /etc/fstab && grep -qF ${sh(FSTAB_MARK)} /etc/fstab; then`,
      "  tmp=$(mktemp /etc/fstab.lsc-XXXXXX)",
      `  grep -vF ${sh(FSTAB_MARK)} /etc/fstab >"$tmp" || [ "$?" -eq 1 ]`,
      '  chmod 0644 "$tmp"',
      '  mv -f "$tmp" /etc/fstab',
      '  if mountpoint -q "$dir"; then umount "$dir"; fi',
      "fi",
      `echo ${sh(`leaving ${syncDir} and its files in place`)}`,
    ]);
  }
  return script([
    `dir=${sh(syncDir)}`,
    `if grep -qF ${sh(FSTAB_MARK)} /etc/fstab; then`,
    "  tmp=$(mktemp /etc/fstab.lsc-XXXXXX)",
    `  grep -vF ${sh(FSTAB_MARK)} /etc/fstab >"$tmp" || [ "$?" -eq 1 ]`,
    '  chmod 0644 "$tmp"',
    '  mv -f "$tmp" /etc/fstab',
    "fi",
    // The filesystem and its images stay on the disk; only the mount goes.
    'if mountpoint -q "$dir"; then umount "$dir"; fi',
  ]);
}
