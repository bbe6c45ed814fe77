#!/usr/bin/env bash
# Every check and test suite, on the same local infrastructure as `npm run start:local`. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/ensure-infra.sh

step() { printf '\n\033[1;34m[test]\033[0m %s\n' "$*"; }
step "format";     npx prettier --check . --log-level warn
step "lint";       npm run --silent lint
step "typecheck";  npm run --silent typecheck
step "unit";       npx jest --ci
step "integration"; npx jest --ci -c jest.int.config.js --runInBand
step "end to end"; npx jest --ci -c test/jest-e2e.config.js --runInBand
