#!/usr/bin/env bash
# Builds Supabase Storage, the closest open-source peer, for `npm run bench:peer`, and checks that it starts.
#
#   bash bench/peer/setup-peer.sh <source> <target dir>
#
# <source>: a bare git directory, a checkout or a git URL of supabase/storage; its HEAD's tree goes to
# <target dir> (keep it outside this repository). The peer runs on Node 20 (its engines ask for 24:
# installed with --engine-strict=false, compiled by esbuild for node20), with the npm release of pg-boss
# in place of its GitHub fork (its queue stays off), the file storage backend, one tenant and a database
# of its own on the local Postgres, which its own migrations fill at its first start (roles `anon`,
# `authenticated`, `service_role`, `authenticator` and the `storage` schema included). The JWT secret
# and the service key (HS256, role service_role) are made here once and kept in <target dir>/.env.
# Idempotent: a second run keeps the tree, the packages and the keys it finds and rebuilds dist/.
# Prints the environment to export for the bench and the command that starts the peer.
#
# PEER_PORT (default 5100; the admin port is the next one), PGHOST, PGPORT, PGUSER (default
# 127.0.0.1, 5432, postgres; trust auth) and PEER_DB (default peer_storage) adjust it.
set -euo pipefail

log() { printf '\033[1;34m[setup-peer]\033[0m %s\n' "$*" >&2; }

if [ $# -ne 2 ]; then
  echo "usage: $0 <bare git dir | checkout | git URL> <target dir>" >&2
  exit 2
fi
source_arg=$1
mkdir -p "$2"
target=$(cd "$2" && pwd)
port=${PEER_PORT:-5100}
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
db=${PEER_DB:-peer_storage}
database_url="postgresql://$pg_user@$pg_host:$pg_port/$db"

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node 20 or later is needed (found $(node -v))" >&2
  exit 1
fi

# 1. The source tree at HEAD, stamped with its commit so that a second run with the same one skips it.
if [ -d "$source_arg/.git" ]; then
  git_dir=$source_arg/.git
elif git --git-dir="$source_arg" rev-parse -q --verify 'HEAD^{commit}' >/dev/null 2>&1; then
  git_dir=$source_arg # a bare directory (a mirror may lack the config that says so)
else
  git_dir=$target/.source.git
  if [ ! -d "$git_dir" ]; then
    log "cloning $source_arg"
    git clone --quiet --bare --depth 1 "$source_arg" "$git_dir"
  fi
fi
commit=$(git --git-dir="$git_dir" rev-parse HEAD)
if [ "$(cat "$target/.peer-commit" 2>/dev/null)" != "$commit" ]; then
  log "extracting $commit into $target"
  git --git-dir="$git_dir" archive HEAD | tar -x -C "$target"
  echo "$commit" >"$target/.peer-commit"
fi
cd "$target"

# 2. pg-boss from npm (the version its fork is based on, from the lock) instead of the GitHub fork: this
# machine reaches the npm registry only.
node - <<'EOF'
const fs = require('fs');
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
if (!/^\d/.test(pkg.dependencies['pg-boss'])) {
  const version = lock.packages['node_modules/pg-boss'].version;
  pkg.dependencies['pg-boss'] = version;
  lock.packages[''].dependencies['pg-boss'] = version;
  delete lock.packages['node_modules/pg-boss'];
  fs.writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
}
EOF

# 3. Packages, skipped when node_modules is newer than the lock.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm install --engine-strict=false --no-audit --no-fund --loglevel=error
fi

# 4. dist/ for Node 20 (its build script without the type check, which wants Node 24's types).
log "building dist/"
sed -i "s/target: 'node[0-9]*'/target: 'node20'/" build.js
node build.js
npx resolve-tspaths >/dev/null

# 5. Its database, and its .env (keys kept from a previous run).
exists=$(psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -Atc \
  "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ "$exists" != 1 ]; then
  log "creating database $db"
  createdb -h "$pg_host" -p "$pg_port" -U "$pg_user" "$db"
fi
secret=$(sed -n 's/^AUTH_JWT_SECRET=//p' .env 2>/dev/null || true)
service_key=$(sed -n 's/^SERVICE_KEY=//p' .env 2>/dev/null || true)
if [ -z "$secret" ] || [ -z "$service_key" ]; then
  secret=$(node -p 'require("crypto").randomBytes(32).toString("hex")')
  service_key=$(SECRET=$secret node -p '
    const { createHmac } = require("crypto");
    const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ role: "service_role", iat: now, exp: now + 10 * 365 * 86400 })}`;
    `${unsigned}.${createHmac("sha256", process.env.SECRET).update(unsigned).digest("base64url")}`')
fi
mkdir -p data
cat >.env <<EOF
SERVER_HOST=127.0.0.1
SERVER_PORT=$port
SERVER_ADMIN_PORT=$((port + 1))
AUTH_JWT_SECRET=$secret
AUTH_JWT_ALGORITHM=HS256
SERVICE_KEY=$service_key
DATABASE_URL=$database_url
DB_INSTALL_ROLES=true
STORAGE_BACKEND=file
STORAGE_FILE_BACKEND_PATH=$target/data
UPLOAD_FILE_SIZE_LIMIT=52428800
UPLOAD_FILE_SIZE_LIMIT_STANDARD=52428800
PG_QUEUE_ENABLE=false
IMAGE_TRANSFORMATION_ENABLED=false
RATE_LIMITER_ENABLED=false
OTEL_METRICS_ENABLED=false
PROMETHEUS_METRICS_ENABLED=false
LOG_LEVEL=warn
EOF

# 6. One start, which runs its migrations, then a stop; unless it already runs on the port.
url="http://127.0.0.1:$port"
if curl -sf "$url/status" >/dev/null; then
  log "already running on $url"
else
  log "first start (migrations)"
  NODE_ENV=production node dist/start/server.js >.first-start.log 2>&1 &
  pid=$!
  for _ in $(seq 120); do
    curl -sf "$url/status" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat .first-start.log >&2; exit 1; }
    sleep 0.5
  done
  curl -sf "$url/status" >/dev/null || { kill "$pid"; cat .first-start.log >&2; exit 1; }
  kill "$pid"
  wait "$pid" || true
fi

cat <<EOF
# Supabase Storage ($commit) is built in $target. Start it (Ctrl-C stops it):
#   (cd $target && NODE_ENV=production node dist/start/server.js)
# and, in the shell that runs the bench:
export PEER_URL=$url
export PEER_SERVICE_KEY=$service_key
export PEER_DATABASE_URL=$database_url
EOF
