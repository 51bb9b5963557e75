#!/usr/bin/env bash
# README's first command: set up everything (Node 24, dependencies, Kafka jars), start the local
# Kafka broker, and run the demo pipeline against the GitHub simulator on embedded defaults.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
source scripts/env.sh
started_here=0
if ! bash deploy/local/kafka/kafka.sh status >/dev/null 2>&1; then
  bash deploy/local/kafka/kafka.sh start
  started_here=1
fi
stop_broker() { [ "$started_here" = 1 ] && bash deploy/local/kafka/kafka.sh stop; true; }
trap stop_broker EXIT
node runner/src/demo.ts
