#!/usr/bin/env bash
# Runs every example as a user would (`node examples/<file>`); fails on the first that fails.
set -euo pipefail
cd "$(dirname "$0")/.."
for f in examples/*.mjs; do
  echo "--- node $f"
  node "$f"
done
