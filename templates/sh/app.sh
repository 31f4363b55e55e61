#!/bin/sh
# OpenKeeper gen/app template (POSIX sh): one script for all five actions.
#
# OpenKeeper runs it as restore, remove, quickchk, deepchk and recover, and
# says which in LK_ACTION; the work is done by the helper library lib.sh,
# which OpenKeeper puts in the directory named by LK_HELPERS:
#     lkcli resource create gen --tag myapp --app-info /var/lib/myapp/ok \
#         --restore app.sh --remove app.sh --quickchk app.sh --deepchk app.sh \
#         --recover app.sh --helper lib.sh
#
#   restore   start APP_CMD detached unless it runs (its pid in a pidfile),
#             wait until it is up, passes app_check and, with APP_PORT,
#             accepts connections; idempotent
#   remove    SIGTERM to its process group, SIGKILL after STOP_TIMEOUT;
#             "not running" is success
#   quickchk  the process in the pidfile is there and is the application
#   deepchk   that, and app_check
#   recover   remove, then restore
#
# Contract (see templates/README.md): no arguments, stdin is /dev/null, cwd
# is $LKROOT, a scrubbed environment, a session of its own. Exit 0 for
# success, 1 for failure; the reason goes into the event log through lk_err.
# A check says nothing when all is well.
#
# Try it by hand, beside lib.sh (lk_err is not needed: messages then go to
# stderr; without LK_HELPERS the library is looked for beside this script):
#   env -i LKROOT=/tmp/lk LK_TAG=app1 LK_ID=app1 LK_APP_INFO=/tmp/lk/state \
#       LK_ACTION=restore LK_NODE=n1 PATH=/usr/bin:/bin LANG=C ./app.sh; echo $?
# or, once the resource exists: lkcli resource test --tag app1 --action restore

# ---- Settings: adapt these to your application -----------------------------

# The command that runs the application in the FOREGROUND. It must not put
# itself into the background (no "daemonize" mode): the pid recorded in the
# pidfile has to stay the application's pid. The string is split on blanks
# and not otherwise parsed, so quotes do not work. For anything more complex
# (quoted arguments, its own environment, `ulimit`), write a small wrapper
# script ending in `exec /path/to/app ...` and name the wrapper here. To run
# as another user, prefix: 'setpriv --reuid=app --regid=app --init-groups /usr/bin/app'.
# The default is a stand-in that just sleeps "forever" (~68 years).
APP_CMD='sleep 2147483647'

# How /proc/PID/cmdline (arguments joined by single blanks) must look for the
# recorded pid to count as ours. This protects against a stale pidfile whose
# pid now belongs to some other process. A shell pattern as in `case`.
# Empty means "exactly APP_CMD". With a wrapper script or a setpriv prefix
# the command line after `exec` is the application's own; say so here,
# e.g. APP_MATCH='/usr/bin/app *'.
APP_MATCH=''

# Working directory of the application (OpenKeeper runs us in $LKROOT).
APP_DIR='/'

# HOST:PORT the application listens on, e.g. APP_PORT=127.0.0.1:8080. When
# set, restore waits until it accepts connections and deepchk checks it
# (app_check below). Empty: no port.
APP_PORT=''

# Time limits in whole seconds. Keep START_TIMEOUT + START_SETTLE and
# STOP_TIMEOUT + KILL_TIMEOUT below the resource's action timeout
# (default 300 s), or the daemon kills this script first.
START_TIMEOUT=30    # for the process to be up and app_check to pass
START_SETTLE=1      # it must still be up this long afterwards (0 = skip)
STOP_TIMEOUT=30     # after SIGTERM, before SIGKILL
KILL_TIMEOUT=5      # after SIGKILL, before giving up

# The environment. OpenKeeper runs this script with an environment built from
# scratch: LKROOT, LK_TAG, LK_ID, LK_APP_INFO, LK_ACTION, LK_NODE, LK_HELPERS,
# PATH and LANG=C, nothing else. Set and export here whatever the
# application needs; never rely on the environment of the shell you test from.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ -n "${LKROOT:-}" ]; then
    PATH="$LKROOT/bin:$PATH"        # lk_err lives in $LKROOT/bin
fi
export PATH
# export JAVA_HOME=/usr/lib/jvm/default-java
# export MYAPP_CONFIG=/etc/myapp.conf
umask 022

# State directory for the pidfile and the application's output log:
# LK_APP_INFO when it is an absolute path (lkcli resource create ...
# --app-info /var/lib/myapp/openkeeper), else /run/openkeeper/<tag>.
# It must be a local directory: never share a pidfile between nodes.
case "${LK_APP_INFO:-}" in
    /*) STATE_DIR=$LK_APP_INFO ;;
    *)  STATE_DIR=/run/openkeeper/${LK_TAG:-unnamed} ;;
esac
PIDFILE=$STATE_DIR/app.pid
LOGFILE=$STATE_DIR/app.log      # grows: rotate it with logrotate copytruncate

# ---- Application-level check ------------------------------------------------

# app_check PID: is the running application actually working? restore waits
# for this to pass (readiness) and deepchk runs it (health). Print the reason
# to stderr, return 0 for healthy and 1 for not. Keep it bounded in time (a
# check that hangs is killed by the daemon), for example:
#     timeout 10 curl -fsS -o /dev/null http://127.0.0.1:8080/health
#     timeout 10 pg_isready -q -h 127.0.0.1 -p 5432
#     timeout 10 redis-cli -p 6379 ping | grep -q PONG
# The stand-in below checks that the process is neither stopped nor a zombie
# and, when APP_PORT is set, that the port accepts connections.
app_check() {
    lk_proc_ok "$1" || return 1
    if ! lk_app_port_open; then
        echo "$APP_PORT does not accept connections" >&2
        return 1
    fi
    return 0
}

# ---- The helper library ------------------------------------------------------

LK_LIB=${LK_HELPERS:-$(dirname "$0")}/lib.sh
if [ ! -r "$LK_LIB" ]; then
    _msg="helper library $LK_LIB missing: give it to the resource with --helper lib.sh"
    command -v lk_err >/dev/null 2>&1 &&
        lk_err -c ERROR -n 10010 -p "${LK_ACTION:-app}" "$_msg" </dev/null >/dev/null 2>&1
    echo "${LK_ACTION:-app}: $_msg" >&2
    exit 1
fi
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$LK_LIB"

# ---- Main: one branch per action ---------------------------------------------

main() {
    case "${LK_ACTION:-}" in
        restore)  lk_start_app ;;
        remove)   lk_stop_app ;;
        quickchk) lk_check_app quick ;;
        deepchk)  lk_check_app deep ;;
        recover)  lk_recover_app ;;
        *)  lk_log ERROR 10010 "unknown LK_ACTION '${LK_ACTION:-}': expected restore, remove, quickchk, deepchk or recover"
            return 1 ;;
    esac
}
# Exit 0 or 1, nothing else (see templates/README.md).
if main; then
    exit 0
fi
exit 1
