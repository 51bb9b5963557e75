#!/usr/bin/env bash
# Kafka's console consumer (org.apache.kafka.tools.consumer.ConsoleConsumer of Kafka 4.1, from the
# jars kafka.sh fetches), with two defaults for aiaudit's topics, each only when the caller sets none:
#
#   --isolation-level read_committed
#       The tool's own default, read_uncommitted, also prints the records of aborted transactions
#       and of transactions still open; aiaudit writes every topic in transactions.
#   --value-deserializer org.apache.kafka.common.serialization.BytesDeserializer
#       Prints each value as printable ASCII with every other byte (and the backslash) as \xHH: one
#       line per record, which tools/aiaudit_decode.py reads. The tool's default prints the raw bytes.
#
# Every option is the tool's own (--help). Decoding a topic (docs/consuming-topics.md):
#
#   deploy/local/kafka/kafka-console-consumer.sh --bootstrap-server 127.0.0.1:19092 \
#     --topic aiaudit.copilot.audit-events.v1 --from-beginning --property print.key=true \
#     | python3 tools/aiaudit_decode.py
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"

isolation=1
deserializer=1
for arg in "$@"; do
  case "$arg" in
    --isolation-level | --isolation-level=*) isolation=0 ;;
    --value-deserializer | --value-deserializer=* | value.deserializer=*) deserializer=0 ;;
  esac
done
defaults=()
((isolation)) && defaults+=(--isolation-level read_committed)
((deserializer)) && defaults+=(--value-deserializer org.apache.kafka.common.serialization.BytesDeserializer)

exec bash "$SCRIPT_DIR/kafka-run-class.sh" org.apache.kafka.tools.consumer.ConsoleConsumer "${defaults[@]}" "$@"
