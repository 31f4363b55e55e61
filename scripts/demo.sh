#!/bin/sh
# The demo behind `make run` / `make stop`: one node (node1) under ./demo with an example
# application protected by the sh templates. Safe to run again: it reuses what exists.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B="$top/build"
DEMO="$top/demo"
ROOT="$DEMO/node1"
TAG=demo-app

case "${1:-start}" in
start)
    mkdir -p "$DEMO"
    "$B/lkstart" --root "$ROOT" --node node1 --listen 127.0.0.1:7401
    if ! "$B/ins_list" --root "$ROOT" -t "$TAG" >/dev/null 2>&1; then
        mkdir -p "$DEMO/state"
        T="$top/templates/sh"
        "$B/lkcli" --root "$ROOT" resource create gen --tag "$TAG" \
            --restore "$T/restore" --remove "$T/remove" --quickchk "$T/quickchk" \
            --deepchk "$T/deepchk" --recover "$T/recover" \
            --app-info "$DEMO/state" --quickchk-interval 5 --deepchk-interval 30
    else
        "$B/lkcli" --root "$ROOT" resource restore --tag "$TAG"
    fi
    echo
    "$B/lkcli" --root "$ROOT" status
    cat <<EOT

The demo runs in the background: node 'node1' in $ROOT,
protecting '$TAG' (a stand-in application: 'sleep 2147483647', pid in $DEMO/state).
Try next:
  export LKROOT=$ROOT PATH=$B:\$PATH
  ins_list -f ,                                  # the seed system's record format
  lkcli resource remove --tag $TAG               # stop the application
  lkcli resource restore --tag $TAG              # start it again
  lkcli resource test --tag $TAG --action quickchk   # run one check by hand
  kill -9 \$(cat $DEMO/state/app.pid); sleep 8    # the next quickchk fails, recover repairs it
  lkcli resource why --tag $TAG                  # what failed, what recover did
  lkstop -f && lkstart                           # daemon restart: the app is probed, not restarted
  lkcli log -n 20                                # the event log ($ROOT/log/lk.log)
  make stop                                      # take it out of service and stop the node
EOT
    ;;
stop)
    if [ -S "$ROOT/run/lkd.sock" ]; then
        "$B/lkstop" --root "$ROOT" || true
    else
        echo "the demo is not running"
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
