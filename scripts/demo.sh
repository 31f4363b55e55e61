#!/bin/sh
# The demo behind `make run` / `make stop`: a two-node cluster on this machine.
#
# node1 and node2 live under ./demo (node1 in demo/node1 on 127.0.0.1:7401, node2 in
# demo/node2 on 127.0.0.1:7402), share one cluster key and have a comm path both ways.
# An example application ('sleep 2147483647') is protected by a copy of the sh template
# (demo/scripts: app.sh as every action, lib.sh as its helper) as resource 'demo-app': in
# service on node1, extended to node2 with priority 10. Safe to run again: it reuses what exists and starts what is not running.
#
# Overrides, for a machine where the ports or the build differ:
#   LK_DEMO_PORT1 / LK_DEMO_PORT2 (7401 / 7402), LK_DEMO_DIR (./demo), LK_BUILD (./build),
#   LK_DEMO_WEB_PORT (7480: node1's web console, docs/WEB.md)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${LK_BUILD:-$top/build}
DEMO=${LK_DEMO_DIR:-$top/demo}
P1=${LK_DEMO_PORT1:-7401}
P2=${LK_DEMO_PORT2:-7402}
PW=${LK_DEMO_WEB_PORT:-7480}
R1="$DEMO/node1"
R2="$DEMO/node2"
TAG=demo-app

running() { [ -S "$1/run/lkd.sock" ] && "$B/lkcli" --root "$1" node list >/dev/null 2>&1; }

# node_state ROOT: this node's own state of TAG (ISP, OSU, ...), empty when none.
node_state() { "$B/ins_list" --root "$1" -f , -t "$TAG" 2>/dev/null | cut -d, -f7; }

# sees ROOT NODE: ROOT's lkd reports NODE as ALIVE.
sees() { "$B/lkcli" --root "$1" node list 2>/dev/null | grep -q "^$2 *ALIVE"; }

# settled ROOT: the node has finished its start-up (peers heard, data exchanged).
settled() {
    "$B/lkcli" --root "$1" --json status 2>/dev/null | tr -d ' \n' | grep -q '"settled":true'
}

# idle: no action running on TAG on either node.
idle() {
    for _r in "$R1" "$R2"; do
        "$B/lkcli" --root "$_r" --json status 2>/dev/null | tr -d ' \n' |
            grep -q '"pending":"[^"]' && return 1
    done
    return 0
}

wait_until() { # SECONDS COMMAND...: poll every 0.1 s
    _n=$(($1 * 10))
    shift
    while ! "$@"; do
        _n=$((_n - 1))
        [ "$_n" -gt 0 ] || return 1
        sleep 0.1
    done
}

start_node() { # ROOT NAME PORT [--authkey FILE]
    _root=$1 _name=$2 _port=$3
    shift 3
    if running "$_root"; then
        echo "node $_name is already running ($_root)"
    else
        "$B/lkstart" --root "$_root" --node "$_name" --listen "127.0.0.1:$_port" "$@"
    fi
}

commpath() { # ROOT PEER PORT: create the comm path unless it exists
    if ! "$B/lkcli" --root "$1" commpath list 2>/dev/null | grep -q "^$2 .* 127\.0\.0\.1:$3 "; then
        "$B/lkcli" --root "$1" commpath create --node "$2" --address "127.0.0.1:$3"
    fi
}

case "${1:-start}" in
start)
    mkdir -p "$DEMO"
    if [ -d "$R1" ] && [ ! -d "$DEMO/scripts" ]; then
        # A one-node demo made by an earlier version: its application state directory is
        # shared, which two nodes on one machine cannot use. Replace it.
        echo "replacing the one-node demo of an earlier version in $DEMO"
        if running "$R1"; then "$B/lkstop" --root "$R1" || "$B/lkstop" -f --root "$R1"; fi
        rm -rf "$R1" "$DEMO/state" "$DEMO/web-tokens"
    fi
    if [ ! -f "$DEMO/scripts/app.sh" ]; then
        # (An earlier version's demo/scripts held a copy per action: made again.)
        rm -rf "$DEMO/scripts" "$DEMO/scripts.new"
        # The sh template keeps the pidfile in LK_APP_INFO, which is the same on every
        # node; the two nodes of this demo share one machine, so each needs a directory
        # of its own: our copy uses LK_APP_INFO/<node name> (demo/state/node1, ...).
        mkdir -p "$DEMO/scripts.new"
        cp "$top"/templates/sh/app.sh "$top"/templates/sh/lib.sh "$DEMO/scripts.new/"
        f="$DEMO/scripts.new/app.sh"
        # shellcheck disable=SC2016 # the $ are the script's own, not ours
        sed 's|^\( *\)/\*) STATE_DIR=\$LK_APP_INFO ;;|\1/*) STATE_DIR=$LK_APP_INFO/${LK_NODE:?} ;;|' \
            "$f" >"$f.tmp"
        # shellcheck disable=SC2016
        grep -q 'STATE_DIR=\$LK_APP_INFO/\${LK_NODE:?}' "$f.tmp" || {
            echo "$0: cannot adapt $f (templates/sh changed?)" >&2
            exit 1
        }
        cat "$f.tmp" >"$f" && rm -f "$f.tmp"
        mv "$DEMO/scripts.new" "$DEMO/scripts"
    fi
    mkdir -p "$DEMO/state"

    start_node "$R1" node1 "$P1"
    start_node "$R2" node2 "$P2" --authkey "$R1/etc/authkey"
    commpath "$R1" node2 "$P2"
    commpath "$R2" node1 "$P1"
    if ! wait_until 15 sees "$R1" node2 || ! wait_until 15 sees "$R2" node1; then
        echo "$0: node1 and node2 do not see each other; see lkcli status on each" >&2
        exit 1
    fi
    wait_until 15 settled "$R1" || true
    wait_until 15 settled "$R2" || true

    if [ -z "$(node_state "$R1")" ]; then
        S="$DEMO/scripts/app.sh"
        "$B/lkcli" --root "$R1" resource create gen --tag "$TAG" \
            --restore "$S" --remove "$S" --quickchk "$S" --deepchk "$S" --recover "$S" \
            --helper "$DEMO/scripts/lib.sh" --app-info "$DEMO/state" \
            --quickchk-interval 5 --deepchk-interval 30
    fi
    if [ -z "$(node_state "$R2")" ]; then
        "$B/lkcli" --root "$R1" resource extend --tag "$TAG" --node node2 --priority 10
        wait_until 10 sh -c "[ -n \"\$('$B/ins_list' --root '$R2' -t '$TAG' 2>/dev/null)\" ]" || true
    fi
    # After `make stop` the first node up puts it back in service by itself (its last
    # owner stopped and nobody holds it): wait for that, restore only when nobody has it.
    wait_until 15 idle || true
    case "$(node_state "$R1") $(node_state "$R2")" in
        *ISP*) ;;
        *) "$B/lkcli" --root "$R1" resource restore --tag "$TAG" || true ;;
    esac
    # node1's web console, and a guest and an admin token for it (made once, kept in
    # demo/web-tokens, mode 0600).
    "$B/lkstart" --root "$R1" --web "127.0.0.1:$PW" | grep -v "already running" || true
    if [ ! -s "$DEMO/web-tokens" ]; then
        (umask 077 && {
            echo "guest $("$B/lkcli" --root "$R1" web token create --role guest --name demo-guest 2>/dev/null)"
            echo "admin $("$B/lkcli" --root "$R1" web token create --role admin --name demo-admin 2>/dev/null)"
        } >"$DEMO/web-tokens")
    fi
    GUEST=$(sed -n 's/^guest //p' "$DEMO/web-tokens")
    ADMIN=$(sed -n 's/^admin //p' "$DEMO/web-tokens")
    echo
    "$B/lkcli" --root "$R1" status
    # Paths as the user types them: relative to the repository when they are inside it.
    rel() { case "$1" in "$top"/*) printf '%s\n' "${1#"$top"/}" ;; *) printf '%s\n' "$1" ;; esac; }
    R1=$(rel "$R1") R2=$(rel "$R2") DEMO=$(rel "$DEMO") B=$(rel "$B")
    case "$B" in /*) ;; *) B="\$PWD/$B" ;; esac
    cat <<EOT

The demo runs in the background: a two-node cluster, node1 ($R1, 127.0.0.1:$P1)
and node2 ($R2, 127.0.0.1:$P2), protecting '$TAG' (a stand-in application:
'sleep 2147483647'; pid in $DEMO/state/NODE/app.pid). Try next, from $top:

  export PATH=$B:\$PATH
  lkcli --root $R2 status                       # the same cluster seen from node2
  ins_list --root $R1 -f ,                      # the seed system's record format

Switchover (planned move to node2, step by step; and back):
  lkcli --root $R1 resource restore --tag $TAG --node node2
  lkcli --root $R2 resource restore --tag $TAG --node node1

Application failure (on the node that has it, say node1): the next quickchk (every 5 s)
fails, recover restarts it in place; then ask why:
  kill -9 \$(cat $DEMO/state/node1/app.pid); sleep 8
  lkcli --root $R1 resource why --tag $TAG

Node failure: kill node1's daemon and its application; node2 sees the connections close
and takes the hierarchy over at once:
  kill -9 \$(cat $R1/run/lkd.pid) \$(cat $DEMO/state/node1/app.pid)
  sleep 1; lkcli --root $R2 status
Bring node1 back: it rejoins, learns that node2 holds a newer generation, stays OSU
(switch back by hand with the switchover command above):
  lkstart --root $R1

Also: lkcli --root $R1 log -n 20 (the event log), lkstop -f --root ... (stop a daemon,
leave the application running), make stop (take it out of service, stop both nodes).

The web console of node1: http://127.0.0.1:$PW/  (log in with a token; docs/WEB.md)
  guest token (reads): $GUEST
  admin token (acts):  $ADMIN
  curl -H "Authorization: Bearer $GUEST" http://127.0.0.1:$PW/api/v1/status
EOT
    ;;
stop)
    any=
    for r in "$R2" "$R1"; do
        if running "$r"; then
            any=1
            "$B/lkstop" --root "$r" || true
        fi
    done
    [ -n "$any" ] || echo "the demo is not running"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
