#!/usr/bin/env bash
# The snapshotter crash test of issue 9: events published beforehand, the snapshotter killed with
# SIGKILL at random points while it sinks them, and after every kill the group's committed offsets
# checked against ClickHouse (nothing committed before its insert); at the end every event in
# ClickHouse exactly once, count() without FINAL. Flags: runner/soak/README.md (or --help).
# Exit 0 passed, 1 a violation, 2 usage.
#   scripts/sink-crash.sh                    # 200,000 events, 10 kills, the broker at KAFKA_BROKERS
#   scripts/sink-crash.sh --private-broker   # the same on a broker of its own (a shared machine)
#   scripts/sink-crash.sh --small            # 5,000 events, 3 kills
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
exec node runner/soak/sink-crash.ts "$@"
