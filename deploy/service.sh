#!/bin/sh
# The container's entry point: runs one Tally service, chosen by the first argument, as PID 1
# (exec), so that SIGTERM reaches it. The app root is this script's folder in the image
# (/app) and the repository root when run from deploy/ in a checkout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -d "$here/services" ]; then app="$here"; else app=$(dirname "$here"); fi
service="${1:-help}"
case "$service" in
  gateway | sequencer | blockstore | executor | regfeed)
    shift
    exec node "$app/services/$service/dist/main.js" "$@"
    ;;
  cli)
    shift
    exec node "$app/packages/cli/dist/main.js" "$@"
    ;;
  *)
    echo "usage: <gateway|sequencer|blockstore|executor|regfeed> | cli <tally arguments>" >&2
    echo "  every setting comes from the environment: see docs/configuration.md" >&2
    [ "$service" = "help" ] && exit 0
    echo "unknown service: $service" >&2
    exit 64
    ;;
esac
