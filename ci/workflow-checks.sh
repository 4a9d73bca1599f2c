#!/usr/bin/env bash
# Checks that need no cloud access, for CI (.github/workflows/preview.yml) and for developers:
#   1. actionlint on .github/workflows/*.yml (*.yaml too): any finding fails;
#   2. type-check of examples/consumer with its own pinned TypeScript;
#   3. the policy pack's tests (policy/).
# Runs every check, then exits non-zero if any of them failed.
#
# Usage (from anywhere): bash ci/workflow-checks.sh
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

# Each check stops at its first failing command (`|| return 1`: `set -e` does not apply
# inside a function called from an `if`), and the loop goes on to the next check.
for check in run_actionlint typecheck_consumer test_policy; do
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
