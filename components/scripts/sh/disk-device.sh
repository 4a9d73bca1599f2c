# shellcheck shell=bash
# disk, on a block device (the renderer sets: dir, kind, want, safe_options, mark).
# mkfs runs only when blkid finds no filesystem and no partition table, so a second run,
# or a disk that already holds images, is never wiped. The mount is by UUID with nofail:
# a missing disk never blocks boot, and lsyncd's unit refuses to start on the bare mount
# point (RequiresMountsFor).
# shellcheck disable=SC2154 # its values are assigned ahead of this body by the renderer (scriptFile.ts)

# The device path, once it exists. EBS on Nitro appears as NVMe with the volume id as its
# serial (the renderer gives that by-id path); the kernel's name (nvme1n1, ...) depends on
# attach order and is never guessed.
find_dev() {
  local d
  case "$kind" in
    device | ebs)
      [ -b "$want" ] && echo "$want"
      ;;
    instance-store)
      for d in /dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*; do
        case "$d" in *-part*) continue ;; esac
        if [ -b "$d" ]; then
          echo "$d"
          return 0
        fi
      done
      return 1
      ;;
    *)
      echo "unknown disk kind $kind" >&2
      exit 1
      ;;
  esac
}

dev=
for _ in $(seq 1 90); do
  if dev=$(find_dev); then break; fi
  dev=
  sleep 2
done
[ -n "$dev" ] || { echo "disk $want did not appear within 180 s" >&2; exit 1; }
dev=$(readlink -f "$dev")
# blkid exits 2 when it finds nothing: that, and only that, means "empty".
rc=0; fstype=$(blkid -p -o value -s TYPE "$dev") || rc=$?
if [ "$rc" -eq 2 ]; then fstype=""; elif [ "$rc" -ne 0 ]; then echo "blkid failed on $dev (exit $rc)" >&2; exit "$rc"; fi
rc=0; pttype=$(blkid -p -o value -s PTTYPE "$dev") || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then echo "blkid failed on $dev (exit $rc)" >&2; exit "$rc"; fi
if [ -z "$fstype" ] && [ -n "$pttype" ]; then
  echo "$dev has a $pttype partition table but no filesystem: refusing to format it; give a partition or wipe it yourself" >&2
  exit 1
fi
if [ -z "$fstype" ]; then
  # nodiscard: discarding a fresh EBS volume only costs time; lazy init lets it mount at once.
  mkfs.ext4 -q -m 0 -L lsc-sync -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 "$dev"
  fstype=ext4
fi
uuid=$(blkid -p -o value -s UUID "$dev")
[ -n "$uuid" ] || { echo "$dev has a $fstype filesystem without a UUID" >&2; exit 1; }
install -d -m 0755 "$dir"
line="UUID=$uuid $dir $fstype defaults,nofail,noatime,$safe_options,x-systemd.device-timeout=30s 0 2 $mark"
lsc_fstab_line "$line"
if mountpoint -q "$dir"; then
  mounted=$(findmnt -n -o SOURCE --mountpoint "$dir")
  if [ "$(readlink -f "$mounted")" != "$dev" ]; then
    echo "$dir is already a mount of $mounted, not of $dev" >&2; exit 1
  fi
else
  # Mounting over files would hide them from nginx and lsyncd alike.
  if [ -n "$(ls -A "$dir")" ]; then
    echo "$dir is not empty: refusing to mount $dev over it (move its files onto the disk first)" >&2; exit 1
  fi
  mount "$dir"
fi
# A disk mounted by an earlier version (or by hand) gets the safe options now.
lsc_safe_options "$dir" ""
