# shellcheck shell=bash
# undo disk (the renderer sets: dir, on_device, mark). The filesystem and its images stay:
# destroying the cluster never deletes data, only our mount and fstab line go.
# shellcheck disable=SC2154 # its values are assigned ahead of this body by the renderer (scriptFile.ts)
if [ "$on_device" = yes ]; then
  lsc_fstab_drop
  if mountpoint -q "$dir"; then umount "$dir"; fi
else
  # Only our own bind mount of the dir (recognised by its fstab line) is undone.
  if grep -qF "$dir $dir none bind," /etc/fstab && grep -qF "$mark" /etc/fstab; then
    lsc_fstab_drop
    if mountpoint -q "$dir"; then umount "$dir"; fi
  fi
  echo "leaving $dir and its files in place"
fi
