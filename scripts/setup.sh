#!/usr/bin/env bash
# Installs and builds everything the platform needs on a fresh machine of this kind. Idempotent: each step
# checks before it acts, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# Debian packages: Java and Maven (Apache Kafka and S3Proxy run from Maven Central's jars), kcat (the
# outside-subscriber test reads the topics with it), Chromium (the browser test drives it headless), and the
# Postgres / Redis servers in case this machine does not run them already.
missing=()
command -v java >/dev/null || missing+=(default-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v kcat >/dev/null || missing+=(kcat)
command -v chromium >/dev/null || missing+=(chromium)
command -v pg_isready >/dev/null || missing+=(postgresql postgresql-client)
command -v redis-server >/dev/null || missing+=(redis-server)
# curl and jq: the flows e2e suite runs the flows API's documented shell script as written.
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
# wrk: the load tool of the side-by-side bench with the peer (bench/peer.bench.ts).
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi

# npm packages exactly as locked (`npm ci` never rewrites package-lock.json, so a fresh clone stays clean);
# skipped when node_modules is newer than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --prefer-offline
fi

bash scripts/fetch-servers.sh

log "building dist/ (swc)"
npm run --silent build
