#!/bin/sh
# OpenKeeper gen/app template (systemd service): one script for the actions
# restore, remove, quickchk and recover of a systemd unit, switching on
# LK_ACTION. It logs through lk_log from the sh helper library (templates/sh/
# lib.sh), which OpenKeeper puts in the directory named by LK_HELPERS.
#
# The unit is named by the resource's app info (LK_APP_INFO):
#     lkcli resource create gen --tag web --app-info nginx.service \
#         --restore service.sh --remove service.sh --quickchk service.sh \
#         --recover service.sh --helper ../sh/lib.sh
# (The systemd resource type, `lkcli resource create systemd --unit
# nginx.service`, does the same through D-Bus with no script at all, and
# notices a failure at once: prefer it where it is available.)
#
# IMPORTANT: only OpenKeeper may start the service. Disable it at boot on
# every node, or systemd starts it on all of them at once:
#     systemctl disable nginx.service      (on each node)
# and prefer no Restart= in the unit (or understand that systemd then
# restarts it behind OpenKeeper's back before quickchk/recover see the failure).
#
#   restore   systemctl start (queued with --no-block), then our own wait
#             until systemctl is-active says "active", for at most
#             START_TIMEOUT seconds. An active unit is left alone. A unit
#             that fails, or is not active in time, is stopped again.
#   remove    systemctl stop, wait until inactive (or failed), SIGKILL
#             (systemctl kill) after STOP_TIMEOUT. Stopped is success.
#   quickchk  systemctl is-active. Quiet when all is well. For an
#             application-level probe (does nginx answer on port 80?) use a
#             deepchk (see templates/sh/app.sh) or a built-in check.
#   recover   stop, then start, as two steps rather than "systemctl restart
#             --no-block", so that the wait cannot mistake the old, still
#             active instance for the new one.
#
# Contract (see templates/README.md): no arguments, stdin is /dev/null, cwd
# is $LKROOT, a scrubbed environment, a session of its own. Exit 0 for
# success, 1 for failure; the reason goes into the event log through lk_err.
#
# Try it by hand, as root (without lk_err, messages go to stderr; without
# LK_HELPERS, lib.sh is looked for in ../sh beside this script):
#   env -i LKROOT=/tmp/lk LK_TAG=web LK_ID=web LK_APP_INFO=nginx.service \
#       LK_ACTION=restore LK_NODE=n1 PATH=/usr/bin:/bin LANG=C ./service.sh; echo $?
# or, once the resource exists: lkcli resource test --tag web --action restore

# ---- Settings ---------------------------------------------------------------

# The unit comes from the resource's app info:
#     lkcli resource create gen --tag web --app-info nginx.service \
#         --restore service.sh --remove service.sh --quickchk service.sh \
#         --recover service.sh --helper ../sh/lib.sh
# To hard-code it instead, write UNIT=nginx.service here.
UNIT=${LK_APP_INFO:-}

# Time limits in whole seconds. Keep them below the resource's action timeout
# (default 300 s; recover needs STOP_TIMEOUT + KILL_TIMEOUT + START_TIMEOUT),
# or the daemon kills this script first.
START_TIMEOUT=60    # for the unit to become active
STOP_TIMEOUT=60     # for the unit to become inactive after "systemctl stop"
KILL_TIMEOUT=10     # after "systemctl kill --signal=SIGKILL", before giving up

# The environment is built from scratch by OpenKeeper (LKROOT, LK_TAG, LK_ID,
# LK_APP_INFO, LK_ACTION, LK_NODE, LK_HELPERS, PATH, LANG=C). The service
# itself gets its environment from its unit file (Environment=,
# EnvironmentFile=), not from us.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ -n "${LKROOT:-}" ]; then
    PATH="$LKROOT/bin:$PATH"        # lk_err lives in $LKROOT/bin
fi
export PATH

# ---- The helper library ------------------------------------------------------

LK_LIB=${LK_HELPERS:-$(dirname "$0")/../sh}/lib.sh
if [ ! -r "$LK_LIB" ]; then
    _msg="helper library $LK_LIB missing: give it to the resource with --helper lib.sh"
    command -v lk_err >/dev/null 2>&1 &&
        lk_err -c ERROR -n 10010 -p "${LK_ACTION:-service}" "$_msg" </dev/null >/dev/null 2>&1
    echo "${LK_ACTION:-service}: $_msg" >&2
    exit 1
fi
# shellcheck source-path=SCRIPTDIR source=../sh/lib.sh
. "$LK_LIB"

# ---- systemd ----------------------------------------------------------------

# check_setup: a unit name is given and systemctl is there.
check_setup() {
    if [ -z "$UNIT" ]; then
        lk_log ERROR 11009 "no unit named: create the resource with --app-info NAME.service"
        return 1
    fi
    if ! command -v systemctl >/dev/null 2>&1; then
        lk_log ERROR 11009 "systemctl not found: this template needs systemd"
        return 1
    fi
    return 0
}

# unit_state: print the unit's active state (active, activating, failed,
# inactive, deactivating, reloading...). An unknown unit is "inactive".
unit_state() {
    _us=$(systemctl is-active "$UNIT" 2>/dev/null)
    printf '%s\n' "${_us:-unknown}"
}

# status_tail: the unit's status and last journal lines, to stderr, where
# the daemon keeps them in the action log.
status_tail() {
    systemctl status --no-pager --lines=10 "$UNIT" >&2 2>&1 || :
}

# wait_state SECONDS STATE...: wait, polling once a second, until the unit is
# in one of the given states. Prints the last state seen. Returns 0 when it
# got there, 2 when the unit "failed" (and failed is not a wanted state),
# 1 on timeout.
wait_state() {
    _wleft=$1
    shift
    while :; do
        _ws=$(unit_state)
        for _want in "$@"; do
            if [ "$_ws" = "$_want" ]; then
                printf '%s\n' "$_ws"
                return 0
            fi
        done
        if [ "$_ws" = failed ]; then
            printf '%s\n' "$_ws"
            return 2
        fi
        if [ "$_wleft" -le 0 ]; then
            printf '%s\n' "$_ws"
            return 1
        fi
        sleep 1
        _wleft=$((_wleft - 1))
    done
}

# start_unit: start the unit unless it is active; wait until it is.
# Idempotent.
start_unit() {
    if [ "$(unit_state)" = active ]; then
        lk_log INFO 11001 "$UNIT already active; nothing to do"
        return 0
    fi
    # Forget an earlier failure, so that "failed" below means this start.
    systemctl reset-failed "$UNIT" >/dev/null 2>&1
    # --no-block: queue the start job and return at once; we do the waiting
    # ourselves, with our own timeout, instead of hanging in systemctl for the
    # unit's TimeoutStartSec.
    if ! _out=$(systemctl start --no-block "$UNIT" 2>&1); then
        lk_log ERROR 11003 "systemctl start $UNIT refused: $_out"
        return 1
    fi
    _st=$(wait_state "$START_TIMEOUT" active)
    case $? in
        0)  lk_log INFO 11002 "$UNIT is active"
            return 0 ;;
        2)  lk_log ERROR 11004 "$UNIT failed to start"
            status_tail
            return 1 ;;
    esac
    lk_log ERROR 11005 "$UNIT not active after $START_TIMEOUT s (state: $_st); stopping it"
    status_tail
    # Leave nothing half-started behind: the hierarchy may now move to
    # another node.
    systemctl stop --no-block "$UNIT" >/dev/null 2>&1
    return 1
}

# stop_unit: stop the unit unless it is stopped; wait until it is.
# Idempotent: inactive (or failed) is success.
stop_unit() {
    _st=$(unit_state)
    case $_st in
        inactive|failed)
            lk_log INFO 11101 "$UNIT already stopped (state: $_st); nothing to do"
            return 0 ;;
    esac
    if ! _out=$(systemctl stop --no-block "$UNIT" 2>&1); then
        lk_log ERROR 11105 "systemctl stop $UNIT refused: $_out"
        return 1
    fi
    # "failed" counts as stopped: many programs exit non-zero on SIGTERM.
    if _st=$(wait_state "$STOP_TIMEOUT" inactive failed); then
        lk_log INFO 11102 "$UNIT stopped (state: $_st)"
        return 0
    fi
    lk_log WARNING 11103 "$UNIT still $_st $STOP_TIMEOUT s after stop; sending SIGKILL"
    systemctl kill --signal=SIGKILL "$UNIT" >/dev/null 2>&1
    if _st=$(wait_state "$KILL_TIMEOUT" inactive failed); then
        lk_log INFO 11102 "$UNIT stopped after SIGKILL (state: $_st)"
        return 0
    fi
    lk_log ERROR 11104 "$UNIT still $_st after SIGKILL"
    status_tail
    return 1
}

# ---- Main: one branch per action ---------------------------------------------

main() {
    check_setup || return 1
    case "${LK_ACTION:-}" in
        restore)  start_unit ;;
        remove)   stop_unit ;;
        quickchk)
            systemctl is-active --quiet "$UNIT" && return 0
            lk_log ERROR 11201 "$UNIT is not active (state: $(unit_state))"
            return 1 ;;
        recover)
            if ! stop_unit; then
                lk_log ERROR 11402 "recovery failed: could not stop $UNIT"
                return 1
            fi
            if ! start_unit; then
                lk_log ERROR 11402 "recovery failed: could not start $UNIT again"
                return 1
            fi
            lk_log INFO 11401 "$UNIT restarted in place" ;;
        *)  lk_log ERROR 10010 "unknown LK_ACTION '${LK_ACTION:-}': expected restore, remove, quickchk or recover"
            return 1 ;;
    esac
}
# Exit 0 or 1, nothing else (see templates/README.md).
if main; then
    exit 0
fi
exit 1
