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
