#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine (Node 24, npm dependencies, the
# Kafka broker's jars). Safe to run again: each step skips what is already in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$AIAUDIT_ROOT"
echo "aiaudit: node $(node -v), npm $(npm -v)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash deploy/local/kafka/kafka.sh fetch
