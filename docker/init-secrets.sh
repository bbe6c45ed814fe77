#!/bin/sh
# Fresh random credentials for compose.yml, written to docker/.env (Compose reads it from this
# folder) or to the file given as the first argument. Run it once before the first
# `docker compose up`: a variable the file already sets is kept, a missing one is added, so
# running it again changes nothing. The file is readable by its owner only.
set -eu

env_file=${1:-"$(dirname "$0")/.env"}

# $1 random bytes as hex: safe in URLs (DATABASE_URL) and in shell-style .env files.
random_hex() {
  od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

umask 077
touch "$env_file"
# A last line without its newline would swallow the first variable added.
if [ -s "$env_file" ] && [ -n "$(tail -c 1 "$env_file")" ]; then echo >>"$env_file"; fi
for entry in POSTGRES_PASSWORD:24 JWT_SECRET:32 OPERATOR_TOKEN:32 S3_ACCESS_KEY_ID:10 \
  S3_SECRET_ACCESS_KEY:24 S3_NOTIFICATION_SECRET:24; do
  name=${entry%%:*}
  if ! grep -q "^$name=" "$env_file"; then
    echo "$name=$(random_hex "${entry##*:}")" >>"$env_file"
  fi
done
# Service tokens between the apps: an Ed25519 key pair per app, each app's private key for it alone
# and every app's public key for all (as `node dist/tools/cli/main.js service-keys` prints them).
if ! grep -q "^SERVICE_TOKEN_PUBLIC_KEYS=" "$env_file"; then
  command -v openssl >/dev/null || { echo "openssl is needed to make the service token keys" >&2; exit 1; }
  # A raw 32-byte key (the end of its DER form) in unpadded base64url.
  b64url() { tail -c 32 | base64 | tr '+/' '-_' | tr -d '=\n'; }
  key=$(mktemp)
  public=''
  for app in gateway object-metadata storage flow-orchestrator usage-aggregator; do
    openssl genpkey -algorithm ed25519 -out "$key"
    name=$(echo "$app" | tr 'a-z-' 'A-Z_')_SERVICE_TOKEN_PRIVATE_KEY
    echo "$name=$(openssl pkey -in "$key" -outform DER | b64url)" >>"$env_file"
    public="$public${public:+,}$app:$(openssl pkey -in "$key" -pubout -outform DER | b64url)"
  done
  rm -f "$key"
  echo "SERVICE_TOKEN_PUBLIC_KEYS=$public" >>"$env_file"
fi
echo "credentials in $env_file"
