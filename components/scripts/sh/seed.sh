# shellcheck shell=bash
# The seed: the exchange's whole sync dir pushed to one node, in parallel streams.
# Set before this body (seedScript.ts): sync_dir, target, and two arrays: rsync_opts
# (what every stream passes to rsync) and excludes (rsync's --exclude options).
#
# Why streams: each file costs the node's receiving rsync a fixed number of path walks,
# and rsync 3.5 in a daemon without chroot walks the --temp-dir path one component at a
# time for each of them (strace: 53 system calls per file against 16 without the temp
# dir). One rsync is bound by that single receiver; a few over disjoint parts of the tree
# are not. The temp dir stays: it is how a running node's intake knows an arrival.
#
# The parts are whole entries of the tree, found from the top: the top level's entries,
# and while there are fewer than two directories per stream, each directory's entries in
# its place (at most three levels down). Entries are handed out in turn, directories first.
# A part is a path rsync is given by name, and rsync does not test a named path's parent
# directories against the excludes: a directory is only split after rsync itself was asked
# whether it is excluded.
# shellcheck disable=SC2154 # its values are assigned ahead of this body by the renderer (scriptFile.ts)

cd -- "$sync_dir" || exit 1
streams=$(nproc 2>/dev/null || echo 2)
if [ "$streams" -lt 2 ]; then streams=2; fi
if [ "$streams" -gt 4 ]; then streams=4; fi

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
# dirs: directories that may still be split; kept: entries that go as they are.
find . -mindepth 1 -maxdepth 1 -type d -printf '%P\0' >"$work/dirs"
find . -mindepth 1 -maxdepth 1 ! -type d -printf '%P\0' >"$work/kept"
count() { tr -cd '\0' <"$1" | wc -c; }

for _level in 1 2 3; do
  [ "$(count "$work/dirs")" -lt $((2 * streams)) ] || break
  : >"$work/next"
  while IFS= read -r -d '' d; do
    # Listed by rsync with the same excludes (nothing is printed for an excluded one; the
    # /./ form and --no-implied-dirs make it list that one path only), and not empty: only
    # then are its entries parts of their own.
    if [ -n "$(rsync --relative --no-implied-dirs --dirs --list-only "${excludes[@]}" -- "$sync_dir/./$d" 2>/dev/null)" ] \
      && [ -n "$(find "./$d" -mindepth 1 -maxdepth 1 -print -quit)" ]; then
      find "./$d" -mindepth 1 -maxdepth 1 -type d -printf '%p\0' | sed -z 's#^\./##' >>"$work/next"
      find "./$d" -mindepth 1 -maxdepth 1 ! -type d -printf '%p\0' | sed -z 's#^\./##' >>"$work/kept"
    else
      printf '%s\0' "$d" >>"$work/kept"
    fi
  done <"$work/dirs"
  mv -- "$work/next" "$work/dirs"
done

cat -- "$work/dirs" "$work/kept" >"$work/parts"
rc=0
if [ "$(count "$work/parts")" -lt 2 ]; then
  # Nothing to split: one rsync of the whole dir (it also proves the node's trust).
  rsync "${rsync_opts[@]}" "${excludes[@]}" -- "$sync_dir/" "$target" || rc=$?
  streams=1
else
  split -t '\0' -n "r/$streams" -- "$work/parts" "$work/part."
  pids=()
  for part in "$work"/part.*; do
    [ -s "$part" ] || continue
    rsync "${rsync_opts[@]}" "${excludes[@]}" --from0 --files-from="$part" -- "$sync_dir/" "$target" &
    pids+=("$!")
  done
  # Every stream runs to its end (its files are not lost work); the first failure is
  # the step's.
  for pid in "${pids[@]}"; do
    r=0
    wait "$pid" || r=$?
    # 24 = files vanished while being read: the next lsyncd event covers them.
    if [ "$r" -ne 0 ] && [ "$r" -ne 24 ] && [ "$rc" -eq 0 ]; then rc=$r; fi
  done
fi
if [ "$rc" -ne 0 ] && [ "$rc" -ne 24 ]; then
  echo "seeding failed: rsync exit $rc" >&2
  exit "$rc"
fi
echo "seeded in $streams stream(s)"
