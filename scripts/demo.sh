#!/usr/bin/env bash
# README's first command: set up everything (Node 24, dependencies, Kafka jars), start the local
# Kafka broker, and run the demo pipeline against the GitHub and OpenAI simulators on embedded
# defaults; then serve the dashboard until Ctrl-C (`--once`: exit after the run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
source scripts/env.sh
source scripts/broker.sh
node runner/src/demo.ts "$@"
