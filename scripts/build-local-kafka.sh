#!/usr/bin/env bash
# Builds .local/bin/kafka-mock-cluster (tools/local-kafka/mock-cluster.c over librdkafka's mock
# cluster). Idempotent: recompiles only when the source is newer than the binary.
# Needs a C compiler and Debian's librdkafka-dev (>= 2.0, for rdkafka_mock.h); as root it installs
# the latter when missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/tools/local-kafka/mock-cluster.c"
out="$root/.local/bin/kafka-mock-cluster"
header=/usr/include/librdkafka/rdkafka_mock.h

if [[ -x "$out" && "$out" -nt "$src" ]]; then
  exit 0
fi

if [[ ! -f "$header" ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "build-local-kafka: installing librdkafka-dev" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q librdkafka-dev >/dev/null ||
      { apt-get update -q >/dev/null && apt-get install -y -q librdkafka-dev >/dev/null; }
  fi
  if [[ ! -f "$header" ]]; then
    echo "build-local-kafka: $header not found; install librdkafka-dev (apt-get install -y librdkafka-dev)" >&2
    exit 1
  fi
fi

cc="${CC:-cc}"
if ! command -v "$cc" >/dev/null; then
  echo "build-local-kafka: no C compiler ($cc); install gcc (apt-get install -y gcc)" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
# Compile to a temporary name and rename, so a concurrent caller never runs a half-written binary.
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
"$cc" -std=gnu11 -O2 -Wall -Wextra -o "$tmp" "$src" -lrdkafka
mv -f "$tmp" "$out"
echo "build-local-kafka: built $out" >&2
