# Sourced by demo.sh and test.sh: starts the local Kafka broker unless one is running, and stops
# it on exit only if it was started here.
_aiaudit_broker_started=0
if ! bash "$AIAUDIT_ROOT/deploy/local/kafka/kafka.sh" status >/dev/null 2>&1; then
  bash "$AIAUDIT_ROOT/deploy/local/kafka/kafka.sh" start
  _aiaudit_broker_started=1
fi
_aiaudit_stop_broker() {
  if [ "$_aiaudit_broker_started" = 1 ]; then bash "$AIAUDIT_ROOT/deploy/local/kafka/kafka.sh" stop; fi
}
trap _aiaudit_stop_broker EXIT
