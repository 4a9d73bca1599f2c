# shellcheck shell=bash
# disk, without a device (the renderer sets: dir, safe_options, mark). The sync dir stays
# on the root filesystem: a bind mount of itself carries the safe options (an fstab line
# of ours keeps it across reboots). A dir that is already some other mount point is left
# as it is; only its options are added.
# shellcheck disable=SC2154 # its values are assigned ahead of this body by the renderer (scriptFile.ts)
install -d -m 0755 "$dir"
if ! mountpoint -q "$dir" || grep -qF "$dir $dir none bind," /etc/fstab; then
  lsc_fstab_line "$dir $dir none bind,$safe_options,nofail 0 0 $mark"
  mountpoint -q "$dir" || mount --bind "$dir" "$dir"
fi
lsc_safe_options "$dir" bind,
