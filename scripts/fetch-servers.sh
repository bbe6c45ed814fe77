#!/usr/bin/env bash
# Resolves the Java servers of local runs, tests and benchmarks (Apache Kafka, S3Proxy) from Maven Central
# into Maven's cache and writes each one's class path to .local/servers/<name>.classpath. Idempotent: a
# class path newer than its pom whose jars are all present is kept, so a second run takes milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.local/servers
mkdir -p "$out"
for name in kafka s3proxy; do
  case "$name" in
    kafka) pom=tools/local-servers/kafka/pom.xml ;;
    s3proxy) pom=tools/local-servers/s3/pom.xml ;;
  esac
  cp="$out/$name.classpath"
  if [[ -s "$cp" && "$cp" -nt "$pom" ]] && tr ':' '\n' <"$cp" | xargs -r ls >/dev/null 2>&1; then
    continue
  fi
  printf '\033[1;34m[setup]\033[0m resolving %s from Maven Central\n' "$name"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:build-classpath -Dmdep.outputFile="$PWD/$cp.tmp" >&2
  mv -f "$cp.tmp" "$cp"
done
