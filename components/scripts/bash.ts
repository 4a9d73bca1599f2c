// Building blocks of every remote step's script: a strict header, a file writer that only
// touches a file when its bytes or mode change, and the wrapper that runs the script as
// root. Payload files travel inside the script as base64, so a step's whole effect is one
// string whose hash is its trigger, and no value needs shell quoting beyond sh().
import { sh } from "../quote";

/** Shell functions shared by every step. LSC_CHANGED counts files actually rewritten. */
const PRELUDE = String.raw`set -euo pipefail
umask 022
LSC_CHANGED=0
# lsc_write PATH MODE OWNER BASE64: atomic replace, only when content or mode differ.
lsc_write() {
  local path=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp "$path.lsc-XXXXXX")
  printf '%s' "$4" | base64 -d >"$tmp"
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  if [ -f "$path" ] && [ ! -L "$path" ] && cmp -s "$tmp" "$path" \
    && [ "$(stat -c %a:%U:%G "$path")" = "$(stat -c %a:%U:%G "$tmp")" ]; then
    rm -f "$tmp"
    return 0
  fi
  mv -f "$tmp" "$path"
  LSC_CHANGED=$((LSC_CHANGED + 1))
}
# lsc_owned_dir MODE OWNER PATH: PATH as a real directory of OWNER with MODE, in a parent
# another user may write (the sync dir). A link or file there is removed (the link, never
# its target); a missing dir is made with MODE at once (mkdir -m is atomic); ownership is
# set with chown -h, which never follows a link swapped in meanwhile, and the mode only on
# what is still a real directory just before.
lsc_owned_dir() {
  local mode=$1 owner=$2 path=$3
  if [ -L "$path" ] || { [ -e "$path" ] && [ ! -d "$path" ]; }; then
    rm -f -- "$path"
    LSC_CHANGED=$((LSC_CHANGED + 1))
  fi
  if [ ! -d "$path" ]; then
    mkdir -m "$mode" -- "$path"
    LSC_CHANGED=$((LSC_CHANGED + 1))
  fi
  chown -h -- "$owner" "$path"
  if [ ! -L "$path" ] && [ "$(stat -c %a -- "$path")" != "$(printf '%o' "$((8#$mode))")" ]; then
    chmod -- "$mode" "$path"
  fi
}
# lsc_remove PATH...: delete files this program wrote; absent is fine (delete runs twice).
lsc_remove() {
  local path
  for path in "$@"; do
    if [ -e "$path" ] || [ -L "$path" ]; then
      rm -f -- "$path"
      LSC_CHANGED=$((LSC_CHANGED + 1))
    fi
  done
}`;

export interface FileSpec {
  readonly path: string;
  readonly content: string;
  /** Octal mode, e.g. "0644". */
  readonly mode: string;
  /** "user:group". */
  readonly owner?: string;
}

/** One line that writes a payload file through lsc_write. */
export function writeFile(file: FileSpec): string {
  const b64 = Buffer.from(file.content, "utf8").toString("base64");
  return `lsc_write ${sh(file.path)} ${sh(file.mode)} ${sh(file.owner ?? "root:root")} ${sh(b64)}`;
}

/** A whole step script: strict mode, the prelude, then the body. */
export function script(body: readonly string[]): string {
  return `${PRELUDE}\n${body.join("\n")}\n`;
}

/**
 * The command a remote.Command runs: the script as one quoted argument of bash, under
 * `sudo -n` unless we log in as root. `-n` makes a sudo that wants a password fail at
 * once instead of hanging the deployment. Words appended to it reach the script as $0,
 * $1, ...: the provider appends which run this is (provider.ts, stepRun).
 */
export function asRoot(user: string, scriptText: string): string {
  const bash = `bash -c ${sh(scriptText)}`;
  return user === "root" ? bash : `sudo -n ${bash}`;
}
