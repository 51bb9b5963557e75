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
# The Python pack verifier needs nothing beyond the standard library; its tests need pytest.
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install --user --quiet pytest
# The reference decoder of the Avro topics (tools/aiaudit_decode.py, docs/consuming-topics.md) needs fastavro.
python3 -c "import fastavro" >/dev/null 2>&1 || python3 -m pip install --user --quiet fastavro
# The dashboard's browser tests drive Debian's Chromium through playwright-core (no browser download).
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "aiaudit: installing Debian's chromium package for the browser tests"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
