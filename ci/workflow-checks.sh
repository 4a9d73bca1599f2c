#!/usr/bin/env bash
# Checks that need no cloud access, for CI (.github/workflows/preview.yml) and for developers:
#   1. actionlint on .github/workflows/*.yml (*.yaml too): any finding fails;
#   2. type-check of examples/consumer with its own pinned TypeScript;
#   3. the policy pack's tests (policy/);
#   4. every `uses:` of an action pinned to a full 40-hex commit SHA (a tag can be moved to
#      other code by whoever controls the action's repository; a commit cannot).
# Runs every check, then exits non-zero if any of them failed.
#
# Usage (from anywhere): bash ci/workflow-checks.sh [check...]
#   e.g. `bash ci/workflow-checks.sh check_action_pins` runs only that one (no network).
#
# actionlint comes from the npm registry as a prebuilt, statically linked binary inside the
# package tarball (no download at install time), installed into a throwaway directory with
# install scripts off, and its tarball integrity is checked against the pinned value below.
# It is the kjanat/actionlint build of actionlint; only its linux-x64 package is published.
# It runs shellcheck on `run:` scripts when shellcheck is on PATH (GitHub's ubuntu runners
# have it; locally: apt-get install shellcheck).
set -euo pipefail

ACTIONLINT_PKG="@kjanat-actionlint/actionlint-linux-x64"
ACTIONLINT_VERSION="1.17.0"
ACTIONLINT_INTEGRITY="sha512-NpRSVyKuBd4yizECmaEkjVQmQwvTR8gOpDqm/DL5+E3pXmyt201QJ1IUWhsYFLVn+2MlVolWKaP/8UIPYkvPTQ=="

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failed=()
step() { printf '\n=== %s\n' "$*"; }

install_actionlint() {
    if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
        echo "actionlint: $ACTIONLINT_PKG exists for Linux x86_64 only (this is $(uname -s)/$(uname -m))" >&2
        return 1
    fi
    npm install --prefix "$tmp" --save-exact --ignore-scripts --no-audit --no-fund --loglevel=error \
        "$ACTIONLINT_PKG@$ACTIONLINT_VERSION" >/dev/null || return 1
    local got
    got="$(node -e 'const l=require(process.argv[1]); console.log(l.packages["node_modules/" + process.argv[2]].integrity)' \
        "$tmp/package-lock.json" "$ACTIONLINT_PKG")" || return 1
    if [ "$got" != "$ACTIONLINT_INTEGRITY" ]; then
        echo "actionlint: tarball integrity $got does not match the pinned $ACTIONLINT_INTEGRITY" >&2
        return 1
    fi
    actionlint="$tmp/node_modules/$ACTIONLINT_PKG/bin/actionlint"
    "$actionlint" -version | head -n 1 || return 1
}

run_actionlint() {
    install_actionlint || return 1
    local workflows=()
    shopt -s nullglob
    workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
    shopt -u nullglob
    if [ "${#workflows[@]}" -eq 0 ]; then
        echo "actionlint: no workflow files under .github/workflows" >&2
        return 1
    fi
    command -v shellcheck >/dev/null || echo "actionlint: shellcheck not on PATH, run: scripts are not shellchecked"
    "$actionlint" "${workflows[@]}" && echo "actionlint: ${#workflows[@]} workflow file(s), no findings"
}

typecheck_consumer() {
    npm ci --prefix examples/consumer --no-audit --no-fund --loglevel=error || return 1
    # `npm run --prefix` puts examples/consumer/node_modules/.bin first on PATH, so this is the
    # example's own pinned tsc (`npx --prefix` would pick the repository root's, or none).
    npm run --silent --prefix examples/consumer typecheck && echo "examples/consumer: type-check passed"
}

test_policy() {
    npm ci --prefix policy --no-audit --no-fund --loglevel=error || return 1
    npm test --prefix policy
}

# Every `uses:` in the workflows (and in any local composite action): a local path
# ("./..."), a docker image by digest, or owner/repo[/path]@<40 hex>. A tag or branch
# (`@v6`, `@main`) fails, naming the file and line. Comments after the SHA ("# v6.1.0")
# are for people and are not checked.
check_action_pins() {
    local files=() bad=0 file n line ref
    shopt -s nullglob globstar
    files=(.github/workflows/*.yml .github/workflows/*.yaml .github/actions/**/action.yml .github/actions/**/action.yaml)
    shopt -u nullglob globstar
    for file in "${files[@]}"; do
        n=0
        while IFS= read -r line || [ -n "$line" ]; do
            n=$((n + 1))
            [[ "$line" =~ ^[[:space:]]*(-[[:space:]]+)?uses:[[:space:]]*[\"\']?([^[:space:]\"\'#]+) ]] || continue
            ref="${BASH_REMATCH[2]}"
            case "$ref" in
                ./*) continue ;;
                docker://*@sha256:*) continue ;;
            esac
            if ! [[ "$ref" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$ ]]; then
                echo "$file:$n: action not pinned to a full commit SHA: $ref" >&2
                bad=1
            fi
        done <"$file"
    done
    if [ "$bad" -ne 0 ]; then
        echo "pin each action as owner/repo@<40-hex commit> # <tag> (git ls-remote https://github.com/owner/repo <tag>)" >&2
        return 1
    fi
    echo "action pins: every uses: in ${#files[@]} file(s) is pinned to a commit"
}

# Each check stops at its first failing command (`|| return 1`: `set -e` does not apply
# inside a function called from an `if`), and the loop goes on to the next check.
checks=(check_action_pins run_actionlint typecheck_consumer test_policy)
if [ "$#" -gt 0 ]; then
    for check in "$@"; do
        case " ${checks[*]} " in *" $check "*) ;; *) echo "unknown check: $check (known: ${checks[*]})" >&2; exit 2 ;; esac
    done
    checks=("$@")
fi
for check in "${checks[@]}"; do
    step "$check"
    if ! "$check"; then
        failed+=("$check")
    fi
done

echo
if [ "${#failed[@]}" -gt 0 ]; then
    echo "workflow-checks: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "workflow-checks: all passed"
