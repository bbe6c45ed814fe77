#!/usr/bin/env bash
# Starts the whole platform on local infrastructure; Ctrl-C stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/ensure-infra.sh
exec node dist/tools/local/start.js "$@"
