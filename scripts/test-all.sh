#!/usr/bin/env bash
# Every check and test suite, on the same local infrastructure as `npm run start:local`. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/ensure-infra.sh

step() { printf '\n\033[1;34m[test]\033[0m %s\n' "$*"; }
results=.local/test-results
rm -rf "$results" && mkdir -p "$results"

# The static checks at once (each is one busy core at most); each one's output is shown if it fails.
step "format, lint and typecheck"
check() {
  local name=$1
  shift
  if "$@" >"$results/$name.log" 2>&1; then
    echo "  $name: ok"
  else
    echo "  $name: FAILED"
    cat "$results/$name.log"
    return 1
  fi
}
check format npx prettier --check . --log-level warn &
format=$!
check lint npm run --silent lint &
lint=$!
check typecheck npm run --silent typecheck &
typecheck=$!
failed=0
for pid in $format $lint $typecheck; do wait "$pid" || failed=1; done
[ "$failed" = 0 ]
step "unit";        npx jest --ci --json --outputFile="$results/unit.json"
# Two integration suites at a time: each has its own database, Redis prefix, Kafka and S3 server, and most
# of their time is spent waiting on them. The end-to-end suites run one at a time (each runs the five apps).
step "integration"; npx jest --ci -c jest.int.config.js --maxWorkers=2 --json --outputFile="$results/int.json"
step "end to end";  npx jest --ci -c test/jest-e2e.config.js --runInBand --json --outputFile="$results/e2e.json"

# One closing line for all suites.
node -e '
  const r = ["unit", "int", "e2e"].map((s) => require(`./${process.argv[1]}/${s}.json`));
  const sum = (k) => r.reduce((n, x) => n + x[k], 0);
  console.log(`${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed`);
' "$results"
