# shellcheck shell=bash
# Shared by the disk scripts (the renderer sets: safe_options, mark).
# shellcheck disable=SC2154 # its values are assigned ahead of this body by the renderer (scriptFile.ts)

# lsc_fstab_line LINE: LINE as our one fstab line (marked with $mark); every other line
# is kept byte for byte, and the file is replaced atomically, only when it changes.
lsc_fstab_line() {
  local line=$1 tmp
  if ! grep -qxF "$line" /etc/fstab; then
    tmp=$(mktemp /etc/fstab.lsc-XXXXXX)
    grep -vF "$mark" /etc/fstab >"$tmp" || [ "$?" -eq 1 ]
    printf '%s\n' "$line" >>"$tmp"
    chmod 0644 "$tmp"
    mv -f "$tmp" /etc/fstab
  fi
}

# lsc_fstab_drop: remove our fstab line, if there is one.
lsc_fstab_drop() {
  local tmp
  if grep -qF "$mark" /etc/fstab; then
    tmp=$(mktemp /etc/fstab.lsc-XXXXXX)
    grep -vF "$mark" /etc/fstab >"$tmp" || [ "$?" -eq 1 ]
    chmod 0644 "$tmp"
    mv -f "$tmp" /etc/fstab
  fi
}

# lsc_safe_options DIR BIND: remount DIR with the safe options when it lacks any of them
# (BIND is "bind," for a bind mount, else empty).
lsc_safe_options() {
  local dir=$1 bind=$2 opts o
  opts=",$(findmnt -n -o OPTIONS --mountpoint "$dir"),"
  for o in ${safe_options//,/ }; do
    case "$opts" in *",$o,"*) ;; *)
      mount -o "remount,${bind}$safe_options" "$dir"
      break ;;
    esac
  done
}
