#!/usr/bin/env bash
# README's second command (and what CI runs): set up, start the local Kafka broker, run the
# typecheck, lint, unit tests (TypeScript and the Python pack verifier's), integration tests, stop
# the broker. Fails if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
source scripts/env.sh
source scripts/broker.sh
started=$(date +%s)
npm run -s typecheck
npm run -s lint
npm run -s format:check
npm run -s test:unit
python3 -m pytest -q -p no:cacheprovider tools/
npm run -s test:integration
echo "aiaudit: test suite wall time $(( $(date +%s) - started )) s"
