#!/bin/sh
# The node server's runtime-only install, as the Dockerfile performs it (and the tests, from `npm pack` output):
# the kafu package, then its production dependencies at the lockfile's versions — without the compiler (the
# optional dependencies @yowasp/clang and binaryen), the dev tools, or any install script.
#
#   sh scripts/install-runtime.sh PACKAGE.tgz package-lock.json DIR
#
# DIR/bin/kafu.js is then the `kafu` command. npm's own settings apply (npm_config_offline=true: the cache only).
set -eu
if [ $# -ne 3 ]; then
  echo "usage: $0 PACKAGE.tgz LOCKFILE DIR" >&2
  exit 2
fi
package=$1
lockfile=$2
dir=$3
mkdir -p "$dir"
tar -xzf "$package" -C "$dir" --strip-components=1
cp "$lockfile" "$dir/package-lock.json"
cd "$dir"
npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
