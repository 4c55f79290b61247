#!/usr/bin/env bash
# First command of the README's Quick start: Bun (if missing), dependencies, then the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-bun.sh
bun install --frozen-lockfile
bun run demo
