#!/usr/bin/env bash
# Build the Pulumi toolchain this project runs on, from Go modules, into a cache outside the
# repository keyed by version; a second run finds it there and takes a second.
#
#   bash toolchain/build.sh          # builds if needed; last line of stdout: the bin dir
#   export PATH="$(bash toolchain/build.sh | tail -n1):$PATH"
#
# What it builds and why (README.md, "The Pulumi CLI"):
# - the Pulumi CLI at the version @pulumi/pulumi pins, through the wrapper module next to
#   this script: pkg/v3's go.mod has `replace` directives, which `go install pkg@version`
#   refuses;
# - pulumi-resource-pulumi-nodejs, the launcher of Node.js dynamic providers that every
#   official CLI ships: one line that starts @pulumi/pulumi's own dynamic-provider entry;
#   and pulumi-analyzer-policy-nodejs, the same for policy packs;
# - it also tries the Node.js language host and the providers the program's SDKs name,
#   and reports each one the Go module proxy does not serve. None is needed: the program's
#   remote steps are its own dynamic provider, and tools/pulumi.ts runs the program through
#   the Automation API's in-process language host.
# Users with the official Pulumi CLI skip all of this.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

sdk_version=$(node -p 'require(process.argv[1]).version' "$repo/node_modules/@pulumi/pulumi/package.json" 2>/dev/null) || {
  echo "toolchain: run 'npm ci' first (node_modules/@pulumi/pulumi is missing)" >&2
  exit 1
}
pinned=$(awk '$1 == "require" && $2 == "github.com/pulumi/pulumi/pkg/v3" { print $3 }' "$here/go.mod")
if [ "v$sdk_version" != "$pinned" ]; then
  echo "toolchain: @pulumi/pulumi is $sdk_version but toolchain/go.mod pins pkg/v3 $pinned;" >&2
  echo "  run: cd toolchain && go get github.com/pulumi/pulumi/pkg/v3@v$sdk_version github.com/pulumi/pulumi/sdk/v3@v$sdk_version && go mod tidy" >&2
  exit 1
fi

cache=${LSC_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lsyncd-cluster/toolchain}
bin="$cache/pulumi-v$sdk_version/bin"
mkdir -p "$bin"

if [ -x "$bin/pulumi" ] && [ "$("$bin/pulumi" version 2>/dev/null)" = "v$sdk_version" ]; then
  echo "toolchain: pulumi v$sdk_version already built in $bin" >&2
else
  command -v go >/dev/null || { echo "toolchain: Go is needed to build the Pulumi CLI (apt-get install golang, or go.dev)" >&2; exit 1; }
  echo "toolchain: building pulumi v$sdk_version (about 4 minutes on 2 cores the first time) ..." >&2
  start=$(date +%s)
  (
    cd "$here"
    # -mod=readonly with the committed go.sum: every module is checked against it.
    GOFLAGS=-mod=readonly go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$sdk_version" \
      -o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
  mv -f "$bin/pulumi.tmp" "$bin/pulumi"
  echo "toolchain: built pulumi in $(($(date +%s) - start)) s" >&2
fi

# write_launcher NAME MODULE: a plugin the CLI starts by name, which runs MODULE of the
# @pulumi/pulumi package that Node resolves from the plugin's working directory (the
# official launchers run ./node_modules/... from there; resolving also finds a linked one).
write_launcher() {
  local path="$bin/$1"
  # shellcheck disable=SC2016 # the launcher's own variables, expanded when it runs
  printf '%s\n' '#!/bin/sh' \
    "entry=\$(node -p 'require.resolve(\"$2\", { paths: [process.cwd()] })') || exit 1" \
    'exec node "$entry" "$@"' >"$path.tmp"
  chmod 0755 "$path.tmp"
  mv -f "$path.tmp" "$path"
}
# Started when a program registers a Node.js dynamic resource (its remote steps).
write_launcher pulumi-resource-pulumi-nodejs @pulumi/pulumi/cmd/dynamic-provider
# Started for a Node.js policy pack when no Node.js language host is installed
# (sdk/go/common/resource/plugin/analyzer_plugin.go: "pulumi-analyzer-policy-<runtime>",
# run in the pack's directory).
write_launcher pulumi-analyzer-policy-nodejs @pulumi/pulumi/cmd/run-policy-pack

# What else a Pulumi install would hold. Asked once per version; the answers are cached.
report="$cache/pulumi-v$sdk_version/unavailable.txt"
if [ ! -f "$report" ]; then
  probe_dir=$(mktemp -d)
  trap 'rm -rf "$probe_dir"' EXIT
  (cd "$probe_dir" && go mod init probe >/dev/null 2>&1)
  version_of() { node -p 'require(process.argv[1]).version' "$repo/node_modules/$1/package.json" 2>/dev/null || echo "$2"; }
  : >"$report.tmp"
  for module in \
    "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@v$sdk_version" \
    "github.com/pulumi/pulumi-command/provider@v1.2.1" \
    "github.com/pulumi/pulumi-aws/provider/v7@v$(version_of @pulumi/aws 7.48.0)" \
    "github.com/pulumi/pulumi-random/provider/v4@v$(version_of @pulumi/random 4.21.2)" \
    "github.com/pulumi/pulumi-tls/provider/v5@v$(version_of @pulumi/tls 5.6.1)"; do
    if out=$(cd "$probe_dir" && GOFLAGS=-mod=mod GOTOOLCHAIN=local timeout 120 go mod download -json "$module" 2>&1); then
      echo "$module: served by the Go module proxy (not used)" >>"$report.tmp"
    else
      err=$(printf '%s\n' "$out" | sed -n 's/.*"Error": "\(.*\)".*/\1/p' | head -n1)
      echo "$module: not buildable here: ${err:-$out}" >>"$report.tmp"
    fi
  done
  mv -f "$report.tmp" "$report"
fi
sed 's/^/toolchain: /' "$report" >&2
echo "$bin"
