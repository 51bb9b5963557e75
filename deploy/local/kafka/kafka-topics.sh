#!/usr/bin/env bash
# Kafka's topic tool (org.apache.kafka.tools.TopicCommand of Kafka 4.1, from the jars kafka.sh fetches):
#
#   deploy/local/kafka/kafka-topics.sh --bootstrap-server 127.0.0.1:19092 --list
#   deploy/local/kafka/kafka-topics.sh --bootstrap-server 127.0.0.1:19092 --describe --topic aiaudit.copilot.seats.v1
set -euo pipefail
exec bash "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"
