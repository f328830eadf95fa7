#!/usr/bin/env bash
# Installs the Node.js and yarn that a full Backstage app needs into DIR:
#
#   tools/backstage/toolchain.sh DIR   ->  DIR/bin/node, DIR/bin/yarn
#
# Backstage apps want Node 22 and yarn 4, while Cairn's machines and CI have
# Node 20 and npm. Both come as npm packages (`node` ships the platform
# binary as a dependency package, @yarnpkg/cli-dist the yarn bundle), so npm
# is the only client needed. Pinned; a second run with the same pins only
# checks the stamp file.
set -euo pipefail

NODE_VERSION=22.23.3
YARN_VERSION=4.18.1

dir=${1:?usage: toolchain.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
stamp="$dir/.installed"
want="node@$NODE_VERSION @yarnpkg/cli-dist@$YARN_VERSION"

if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$dir/bin/node" ] || [ ! -x "$dir/bin/yarn" ]; then
  echo "installing $want into $dir" >&2
  rm -rf "$dir/pkg" "$dir/bin" "$stamp"
  mkdir -p "$dir/pkg" "$dir/bin"
  # A package.json of its own, so npm does not walk up into a workspace.
  echo '{"name":"cairn-backstage-toolchain","private":true}' >"$dir/pkg/package.json"
  npm install --prefix "$dir/pkg" --no-audit --no-fund --no-save --loglevel=error \
    "node@$NODE_VERSION" "@yarnpkg/cli-dist@$YARN_VERSION" >&2
  # node: the real binary, not npm's shim, so `node` in PATH is Node 22 itself.
  node_bin=$(find "$dir/pkg/node_modules" -path '*/node-*/bin/node' -type f -perm -u+x | head -n 1)
  [ -n "$node_bin" ] || { echo "toolchain: no node binary in the node package" >&2; exit 1; }
  ln -s "$node_bin" "$dir/bin/node"
  cat >"$dir/bin/yarn" <<SH
#!/bin/sh
exec "$dir/bin/node" "$dir/pkg/node_modules/@yarnpkg/cli-dist/bin/yarn.js" "\$@"
SH
  chmod +x "$dir/bin/yarn"
  echo "$want" >"$stamp"
fi

got=$("$dir/bin/node" --version)
[ "$got" = "v$NODE_VERSION" ] || { echo "toolchain: node is $got, want v$NODE_VERSION" >&2; exit 1; }
[ "$("$dir/bin/yarn" --version)" = "$YARN_VERSION" ] || { echo "toolchain: yarn is not $YARN_VERSION" >&2; exit 1; }
echo "$dir/bin"
