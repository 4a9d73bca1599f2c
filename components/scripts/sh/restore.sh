# shellcheck shell=bash
# (the rest is components/scripts/sh/restore.sh, after the values above)
# shellcheck disable=SC2154 # its values are assigned ahead of this body by the renderer (scriptFile.ts)

usage() {
  cat >&2 <<'EOF'
usage: lsyncd-cluster-restore list    [FILTER...] [PATH|GLOB|DIR/...]
       lsyncd-cluster-restore restore [FILTER...] [--missing] [--dry-run] PATH|GLOB|DIR/...
       lsyncd-cluster-restore restore [FILTER...] [--missing] [--dry-run] --paths-from FILE
       lsyncd-cluster-restore prune   [--keep-days N]
FILTER: --since TIME  --until TIME  --origin NODE  --kind overwritten|deleted|conflict
  PATH is relative to the sync dir; GLOB is a bash pattern over it ("*" spans "/");
  DIR/ is every path below DIR. TIME is a time as list prints it (20261130T140500Z) or
  anything date -d reads ("2 hours ago", "14:05", "@1764511500").
  --paths-from: exact paths, NUL-separated (as the fuse lists them).
  restore puts back, per path, the newest matching version; with --since, the oldest one
  kept since then, i.e. the file as it was at that time. --missing: only paths that are
  not there now. A live file that is replaced is kept as a version first.
EOF
  exit 64
}
stamp_of() { # TIME -> 20261130T140500Z (a stamp as list prints it is taken as it is)
  local t
  if [[ $1 =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then printf '%s\n' "$1"; return; fi
  t=$(date -u -d "$1" +%Y%m%dT%H%M%SZ 2>/dev/null) || { echo "lsyncd-cluster-restore: cannot read the time $1" >&2; exit 64; }
  printf '%s\n' "$t"
}
[[ $# -ge 1 ]] || usage
command=$1
shift
since='' until='' origin='' kind='' missing=0 dry=0 patterns=()
declare -A exact=()
while (($#)); do
  case $1 in
    --since) [[ $# -ge 2 ]] || usage; since=$(stamp_of "$2"); shift ;;
    --until) [[ $# -ge 2 ]] || usage; until=$(stamp_of "$2"); shift ;;
    --origin) [[ ${2:-} =~ ^[a-z0-9-]+$ ]] || usage; origin=$2; shift ;;
    --kind) [[ ${2:-} =~ ^(overwritten|deleted|conflict)$ ]] || usage; kind=$2; shift ;;
    --keep-days) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; keep_days=$2; shift ;;
    --paths-from) [[ -r ${2:-} ]] || usage
      while IFS= read -r -d '' p; do exact["${p#/}"]=1; done < "$2"; shift ;;
    --missing) missing=1 ;;
    --dry-run) dry=1 ;;
    --) shift; patterns+=("$@"); break ;;
    -*) usage ;;
    *) patterns+=("${1#/}") ;;
  esac
  shift
done

matches() { # PATH: whether it is one of the exact paths or patterns (none = all)
  local p
  if ((${#exact[@]})); then [[ -n ${exact["$1"]+x} ]] && return 0; ((${#patterns[@]})) || return 1; fi
  ((${#patterns[@]})) || return 0
  for p in "${patterns[@]}"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    if [[ $1 == $p ]] || { [[ $p == */ ]] && [[ $1 == "$p"* ]]; }; then return 0; fi
  done
  return 1
}

# Every version that passes the filters, as NUL-terminated records
# "<stamp> <origin> <kind> <version file>|<path>", sorted by path, then time.
versions_matching() {
  [[ -d $versions ]] || return 0
  local file rel name path rest v_stamp v_origin v_kind
  find "$versions" -mindepth 2 -type f -print0 |
    while IFS= read -r -d '' file; do
      rel=${file#"$versions"/}
      name=${rel##*/}
      path=${rel%/*}
      [[ $name =~ $name_re ]] || continue
      v_stamp=${name%%~*}
      rest=${name#*~}
      v_origin=${rest%%~*}
      rest=${rest#*~}
      v_kind=${rest%%~*}
      [[ -z $since || ! $v_stamp < $since ]] || continue
      [[ -z $until || $v_stamp < $until ]] || continue
      [[ -z $origin || $v_origin == "$origin" ]] || continue
      [[ -z $kind || $v_kind == "$kind" ]] || continue
      matches "$path" || continue
      printf '%s\t%s %s %s %s\0' "$path" "$v_stamp" "$v_origin" "$v_kind" "$name"
    done | LC_ALL=C sort -z
}

# Keeps the live file at PATH as a version (kind overwritten, origin restore) before a
# restore replaces it: a restore loses nothing either.
keep_live() {
  local path=$1 dir base target n=1
  dir="$versions/$path"
  mkdir -p -- "$dir"
  base="$dir/$(date -u +%Y%m%dT%H%M%SZ)~restore~overwritten"
  target=$base
  while [[ -e $target ]]; do n=$((n + 1)); target="$base~$n"; done
  ln -- "$sync_dir/$path" "$target"
}

# The live tree's dirs above PATH, made like the pushes make them (the sync user's, setgid).
live_parents() {
  local dir=$1 d='' part
  local IFS=/
  for part in $dir; do
    d=${d:+$d/}$part
    if [[ -L $sync_dir/$d ]]; then echo "lsyncd-cluster-restore: $d is a link; not restoring below it" >&2; return 1; fi
    if [[ ! -d $sync_dir/$d ]]; then
      mkdir -m 2775 -- "$sync_dir/$d"
      chown "$sync_user:$sync_user" -- "$sync_dir/$d"
    fi
  done
}

restored=0 failed=0
restore_one() { # PATH VERSION-FILE-NAME
  local path=$1 name=$2 live=$sync_dir/$1 src=$versions/$1/$2 tmp
  if [[ -L $live || ( -e $live && ! -f $live ) ]]; then
    echo "skipped: $path (not a regular file now)" >&2; failed=$((failed + 1)); return 0
  fi
  if [[ -f $live ]] && cmp -s -- "$src" "$live"; then echo "unchanged: $path ($name)"; return 0; fi
  if ((missing)) && [[ -e $live ]]; then return 0; fi
  if ((dry)); then echo "would restore: $path ($name)"; restored=$((restored + 1)); return 0; fi
  [[ $path == */* ]] && { live_parents "${path%/*}" || { failed=$((failed + 1)); return 0; }; }
  install -d -m 0700 -o root -g root -- "$staging"
  tmp="$staging/r.$$.$restored"
  cp --preserve=mode,timestamps -- "$src" "$tmp"
  chown "$sync_user:$sync_user" -- "$tmp"
  if [[ -f $live ]]; then
    keep_live "$path"
    # Newer than what every node holds, or the cluster's newest-wins rule would undo it.
    touch -m -- "$tmp"
  fi
  # The rename out of the temp root is what lsyncd relays at once to every node.
  mv -fT -- "$tmp" "$live"
  echo "restored: $path ($name)"
  restored=$((restored + 1))
}

case $command in
  list)
    count=0
    while IFS= read -r -d '' record; do
      path=${record%%$'\t'*}
      read -r v_stamp v_origin v_kind name <<<"${record#*$'\t'}"
      size=$(stat -c %s -- "$versions/$path/$name")
      printf '%s %-12s %-11s %10s %s\n' "$v_stamp" "$v_origin" "$v_kind" "$size" "$path"
      count=$((count + 1))
    done < <(versions_matching)
    ((count)) || { echo "no version matches" >&2; exit 1; }
    ;;
  restore)
    ((${#patterns[@]} + ${#exact[@]})) || usage
    # Per path: the newest matching version, or with --since the oldest (the file at that time).
    declare -A chosen=()
    order=()
    while IFS= read -r -d '' record; do
      path=${record%%$'\t'*}
      name=${record##* }
      if [[ -z ${chosen[$path]+x} ]]; then order+=("$path"); chosen[$path]=$name
      elif [[ -z $since ]]; then chosen[$path]=$name
      fi
    done < <(versions_matching)
    ((${#order[@]})) || { echo "no version matches" >&2; exit 1; }
    for path in "${order[@]}"; do restore_one "$path" "${chosen[$path]}"; done
    echo "$restored restored, $failed skipped"
    ((failed == 0)) || exit 1
    ;;
  prune)
    # A version's time is when it was replaced (its name), not its file's mtime, which is
    # the image's own: an old image overwritten today is kept keepDays from today.
    cutoff=$(date -u -d "-$keep_days days" +%Y%m%dT%H%M%SZ)
    removed=0
    if [[ -d $versions ]]; then
      while IFS= read -r -d '' file; do
        name=${file##*/}
        [[ $name =~ $name_re ]] || continue
        [[ ${name%%~*} < $cutoff ]] || continue
        rm -f -- "$file"
        removed=$((removed + 1))
      done < <(find "$versions" -mindepth 2 -type f -print0)
      find "$versions" -mindepth 1 -depth -type d -empty -delete
    fi
    # What the versions take, for the health check (du here, hourly, not in every check).
    used=0
    [[ -d $versions ]] && used=$(du -sk -- "$versions" | cut -f1)
    size=$(df -k --output=size -- "$sync_dir" | tail -n 1 | tr -d ' ')
    install -d -m 0755 -- "${usage_file%/*}"
    printf '%s %s\n' "$used" "$size" > "$usage_file.tmp"
    mv -f -- "$usage_file.tmp" "$usage_file"
    echo "pruned $removed version(s) older than $keep_days day(s); versions use ${used} KiB of ${size} KiB"
    ;;
  *) usage ;;
esac
