#!/usr/bin/env bash
# The kill -9 soak of issues 6 and 7: the ingest service (ingest-copilot, or ingest-openai with
# --vendor openai) and the snapshotter killed again and again while they work, the broker
# restarted once, then every event checked once in the topic and in ClickHouse. Flags:
# runner/soak/README.md (or --help). Exit 0 passed, 1 a violation, 2 usage.
#   scripts/kill-loop.sh                                   # GitHub: 50,000 events, 10 kills each, one broker restart
#   scripts/kill-loop.sh --private-broker                  # the same on a broker of its own (a shared machine)
#   scripts/kill-loop.sh --vendor openai --private-broker  # OpenAI: ingest-openai and its simulator
#   scripts/kill-loop.sh --small                           # 2,000 events, 2 kills each, no broker restart
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
exec node runner/soak/kill-loop.ts "$@"
