# OpenKeeper gen/app helper library (POSIX sh), sourced by app.sh.
#
# Give it to the resource with its script, as a helper file:
#     lkcli resource create gen --tag myapp --app-info /var/lib/myapp/ok \
#         --restore app.sh --remove app.sh --quickchk app.sh --deepchk app.sh \
#         --recover app.sh --helper lib.sh
# OpenKeeper copies it to every node the resource is extended to, into the
# directory named by $LK_HELPERS, and `lkcli resource update-script --tag
# myapp --helper lib.sh` installs a new version everywhere. One copy can
# serve any number of resources: nothing in it is specific to one
# application. The script's settings (APP_CMD, APP_MATCH, APP_DIR, APP_PORT,
# PIDFILE, LOGFILE, the timeouts) and its app_check function are what it
# works on.
#
# Public functions (all start with lk_; variables of their own with _lk):
#   lk_log CATEGORY NUMBER MESSAGE   the event log through lk_err, or stderr
#   lk_wait_until SECONDS CMD...     poll CMD until it succeeds, bounded
#   lk_port_open HOST PORT           does HOST:PORT accept a connection (5 s)
#   lk_wait_port HOST PORT SECONDS   wait for it
#   lk_proc_ok PID                   alive and neither stopped nor a zombie
#   lk_running_pid                   the application's pid from the pidfile
#   lk_start_app / lk_stop_app       restore / remove, idempotent
#   lk_check_app quick|deep          quickchk / deepchk
#   lk_recover_app                   recover: stop, then start
# Each returns 0 for success. Message numbers: see templates/README.md.
#
# shellcheck shell=sh
# shellcheck disable=SC2034 # PROG and friends are read by the sourcing script

PROG=${LK_ACTION:-app}

# lk_log CATEGORY NUMBER MESSAGE: write to OpenKeeper's event log with lk_err
# (in $LKROOT/bin, which the script puts on PATH). CATEGORY is ERROR, WARNING
# or INFO. When lk_err is missing (a hand test outside the daemon) or fails,
# the message goes to stderr instead, which the daemon keeps in the
# resource's action log.
lk_log() {
    _lkcat=$1 _lknum=$2
    shift 2
    if command -v lk_err >/dev/null 2>&1 &&
        lk_err -c "$_lkcat" -n "$_lknum" -p "$PROG" "$*" </dev/null >/dev/null 2>&1; then
        return 0
    fi
    printf '%s: *%s* (No. %s) %s\n' "$PROG" "$_lkcat" "$_lknum" "$*" >&2
}

# lk_wait_until SECONDS COMMAND [ARG...]: run COMMAND every 0.2 s (every
# second where sleep takes whole seconds only) until it succeeds; fail after
# SECONDS.
lk_wait_until() {
    _lkleft=$1 _lktick=''
    shift
    while :; do
        "$@" && return 0
        [ "$_lkleft" -gt 0 ] || return 1
        if [ -z "$_lktick" ]; then
            # First round: find out whether sleep takes fractions.
            if sleep 0.2 2>/dev/null; then
                _lktick=0.2 _lkleft=$((_lkleft * 5))
            else
                _lktick=1
                sleep 1
            fi
        else
            sleep "$_lktick"
        fi
        _lkleft=$((_lkleft - 1))
    done
}

# lk_port_open HOST PORT: does HOST:PORT accept a TCP connection within 5 s?
# POSIX sh has no sockets: bash's /dev/tcp, else nc -z, else python3.
lk_port_open() {
    if command -v bash >/dev/null 2>&1; then
        # shellcheck disable=SC2016 # expanded by that bash, not here
        timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' lk_port_open "$1" "$2" \
            </dev/null >/dev/null 2>&1
    elif command -v nc >/dev/null 2>&1; then
        timeout 5 nc -z "$1" "$2" </dev/null >/dev/null 2>&1
    else
        timeout 5 python3 -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=4).close()' "$1" "$2" \
            </dev/null >/dev/null 2>&1
    fi
}

# lk_wait_port HOST PORT SECONDS: wait until HOST:PORT accepts connections.
lk_wait_port() {
    lk_wait_until "$3" lk_port_open "$1" "$2"
}

# lk_app_port_open: APP_PORT (HOST:PORT) accepts connections; true when no
# APP_PORT is set.
lk_app_port_open() {
    [ -n "${APP_PORT:-}" ] || return 0
    lk_port_open "${APP_PORT%:*}" "${APP_PORT##*:}"
}

# lk_proc_state PID: the one-letter state from /proc/PID/stat (R, S, T, Z...).
lk_proc_state() {
    _lkst=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    _lkst=${_lkst##*) }             # drop "pid (comm) ": comm may hold blanks
    printf '%s\n' "${_lkst%% *}"
}

# lk_proc_pgrp PID: the process group of PID.
lk_proc_pgrp() {
    _lkst=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    _lkst=${_lkst##*) }
    set -f
    # shellcheck disable=SC2086 # split on purpose: state ppid pgrp ...
    set -- $_lkst
    set +f
    printf '%s\n' "$3"
}

# lk_proc_ok PID: PID is alive, not stopped (SIGSTOP, state T) and not a
# zombie; says why not on stderr.
lk_proc_ok() {
    _lks=$(lk_proc_state "$1") || { echo "pid $1 vanished" >&2; return 1; }
    case "$_lks" in
        T|t) echo "pid $1 is stopped (state $_lks)" >&2; return 1 ;;
        Z|X) echo "pid $1 is a zombie (state $_lks)" >&2; return 1 ;;
    esac
    return 0
}

# lk_proc_gone PID: PID has exited (it may linger as a zombie until reaped).
lk_proc_gone() {
    _lks=$(lk_proc_state "$1") || return 0
    [ "$_lks" = Z ] || [ "$_lks" = X ]
}

# lk_read_pid: print the pid in PIDFILE; fail if there is none.
lk_read_pid() {
    [ -r "$PIDFILE" ] || return 1
    _lkpid=''
    read -r _lkpid <"$PIDFILE" 2>/dev/null
    case "$_lkpid" in
        ''|*[!0-9]*) return 1 ;;
    esac
    printf '%s\n' "$_lkpid"
}

# lk_is_app_pid PID: is PID alive and running our application (APP_MATCH, or
# exactly APP_CMD)? A zombie has an empty command line, so it does not count.
lk_is_app_pid() {
    [ -r "/proc/$1/cmdline" ] || return 1
    _lkcl=$(tr '\000' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    _lkcl=${_lkcl% }                # the trailing NUL became a blank
    [ -n "$_lkcl" ] || return 1
    if [ -n "${APP_MATCH:-}" ]; then
        # shellcheck disable=SC2254 # unquoted on purpose: APP_MATCH is a pattern
        case "$_lkcl" in
            $APP_MATCH) return 0 ;;
        esac
        return 1
    fi
    set -f
    # shellcheck disable=SC2086 # split on purpose, as the start does
    _lkwant=$(printf '%s ' $APP_CMD)
    set +f
    [ "$_lkcl" = "${_lkwant% }" ]
}

# lk_running_pid: print the application's pid if it is running; fail if not.
lk_running_pid() {
    _lkrp=$(lk_read_pid) || return 1
    lk_is_app_pid "$_lkrp" || return 1
    printf '%s\n' "$_lkrp"
}

lk_app_is_up() { _lkup=$(lk_running_pid) && app_check "$_lkup" 2>/dev/null; }
lk_app_is_gone() { ! lk_is_app_pid "$1"; }
lk_start_settled() { lk_app_is_up || lk_proc_gone "$1"; }

# lk_signal_app SIGNAL PID: signal the application. It is started with
# setsid, so it leads its own process group: signal the whole group, so that
# worker processes it forked get the signal too.
lk_signal_app() {
    if [ "$(lk_proc_pgrp "$2")" = "$2" ]; then
        kill -s "$1" -- "-$2" 2>/dev/null || kill -s "$1" "$2" 2>/dev/null
    else
        kill -s "$1" "$2" 2>/dev/null
    fi
}

# lk_show_log_tail: copy the end of LOGFILE to stderr, where the daemon keeps
# it in the action log (and a failed run's tail in the event log).
lk_show_log_tail() {
    if [ -s "$LOGFILE" ]; then
        echo "--- last lines of $LOGFILE ---" >&2
        tail -n 10 "$LOGFILE" >&2
    fi
}

# lk_start_daemon: start APP_CMD detached, its pid in PIDFILE; the pid of
# the process started is left in LK_STARTED_PID. setsid gives it a session
# (and process group) of its own, so it shares no signals with this script
# or the daemon; stdin is /dev/null and its output goes to LOGFILE, never to
# our stdout/stderr. It stays in the resource's cgroup, where OpenKeeper
# starts every script (nothing moves it out): the cgroup watch, the kill at
# remove and the usage figures cover it. The little sh in front writes its
# own pid ($$) into the pidfile (via a rename, so nobody reads half a file)
# and then execs the application, which keeps that pid.
lk_start_daemon() {
    if command -v setsid >/dev/null 2>&1; then
        _lkdetach='setsid'
    else
        _lkdetach='nohup'           # no setsid: at least ignore SIGHUP
    fi
    printf '=== %s: %s starting: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$PROG" "$APP_CMD" \
        >>"$LOGFILE"
    set -f
    (
        cd "${APP_DIR:-/}" || exit 1
        # shellcheck disable=SC2016,SC2086 # $$ is the inner sh's; APP_CMD splits
        exec $_lkdetach /bin/sh -c \
            'p=$1; shift; echo $$ >"$p.new" && mv -f "$p.new" "$p" && exec "$@"' \
            openkeeper-start "$PIDFILE" $APP_CMD
    ) </dev/null >>"$LOGFILE" 2>&1 &
    LK_STARTED_PID=$!
    set +f
}

# lk_start_app: restore. Start the application unless it already runs
# (idempotent), wait until it is up and passes app_check (and, when APP_PORT
# is set, accepts connections), then make sure it is still up START_SETTLE
# seconds later.
lk_start_app() {
    if _lksp=$(lk_running_pid); then
        lk_log INFO 10001 "application already running (pid $_lksp); nothing to do"
        return 0
    fi
    if ! mkdir -p "$STATE_DIR"; then
        lk_log ERROR 10009 "cannot create state directory $STATE_DIR"
        return 1
    fi
    if [ -e "$PIDFILE" ]; then
        lk_log WARNING 10005 "removing stale pidfile $PIDFILE (pid $(lk_read_pid || echo '?') is not the application)"
        rm -f "$PIDFILE"
    fi
    if ! : >>"$LOGFILE"; then
        lk_log ERROR 10009 "cannot write $LOGFILE"
        return 1
    fi
    lk_start_daemon
    _lkchild=$LK_STARTED_PID

    # Wait until it is up - or until the process started has already exited
    # (a bad command or configuration), so as to fail at once.
    lk_wait_until "$START_TIMEOUT" lk_start_settled "$_lkchild"
    if ! lk_app_is_up; then
        if _lksp=$(lk_running_pid); then
            app_check "$_lksp"      # its reason goes to stderr
            lk_log ERROR 10003 "application (pid $_lksp) did not pass app_check within $START_TIMEOUT s; stopping it"
            lk_stop_app
        else
            if lk_proc_gone "$_lkchild"; then
                lk_log ERROR 10003 "application exited at once; see $LOGFILE"
            else
                lk_log ERROR 10003 "application did not start within $START_TIMEOUT s; see $LOGFILE"
            fi
            # Leave no half-started child behind (for instance when
            # APP_MATCH does not match the real command line).
            [ -d "/proc/$_lkchild" ] && kill -s TERM "$_lkchild" 2>/dev/null
            rm -f "$PIDFILE"
        fi
        lk_show_log_tail
        return 1
    fi
    _lksp=$(lk_running_pid)
    if [ "$START_SETTLE" -gt 0 ]; then
        # Many programs that fail on a bad configuration die within a moment.
        sleep "$START_SETTLE"
        if ! lk_app_is_up; then
            lk_log ERROR 10004 "application (pid $_lksp) died or failed app_check right after starting; see $LOGFILE"
            if lk_running_pid >/dev/null; then
                lk_stop_app
            else
                rm -f "$PIDFILE"
            fi
            lk_show_log_tail
            return 1
        fi
    fi
    lk_log INFO 10002 "application started (pid $_lksp)"
    return 0
}

# lk_stop_app: remove. Stop the application if it runs (idempotent: "not
# running" is success): SIGTERM to its process group, SIGKILL after
# STOP_TIMEOUT.
lk_stop_app() {
    if ! _lktp=$(lk_running_pid); then
        rm -f "$PIDFILE"            # stale or absent: either way, gone
        lk_log INFO 10101 "application not running; nothing to stop"
        return 0
    fi
    lk_signal_app TERM "$_lktp"
    if lk_wait_until "$STOP_TIMEOUT" lk_app_is_gone "$_lktp"; then
        lk_log INFO 10102 "application stopped (pid $_lktp)"
    else
        lk_log WARNING 10103 "application (pid $_lktp) still running $STOP_TIMEOUT s after SIGTERM; sending SIGKILL"
        lk_signal_app KILL "$_lktp"
        if ! lk_wait_until "$KILL_TIMEOUT" lk_app_is_gone "$_lktp"; then
            lk_log ERROR 10104 "application (pid $_lktp) still running after SIGKILL"
            return 1
        fi
        lk_log INFO 10102 "application killed (pid $_lktp)"
    fi
    # Sweep up anything left in its process group (workers that ignored
    # SIGTERM). Fails harmlessly when the group is already empty.
    kill -s KILL -- "-$_lktp" 2>/dev/null
    rm -f "$PIDFILE"
    return 0
}

# lk_check_app quick|deep: quickchk (the process from the pidfile is there)
# or deepchk (and then app_check, the application-level probe). Silent when
# all is well.
lk_check_app() {
    if ! _lkcp=$(lk_running_pid); then
        if _lkcp=$(lk_read_pid); then
            lk_log ERROR 10202 "application not running: pid $_lkcp from $PIDFILE is gone or is not the application"
        else
            lk_log ERROR 10201 "application not running: no pidfile $PIDFILE"
        fi
        return 1
    fi
    [ "$1" = deep ] || return 0
    if ! _lkwhy=$(app_check "$_lkcp" 2>&1); then
        lk_log ERROR 10301 "application check failed (pid $_lkcp): ${_lkwhy:-no reason given}"
        return 1
    fi
    return 0
}

# lk_recover_app: recover. The same stop as remove, then the same start as
# restore.
lk_recover_app() {
    if ! lk_stop_app; then
        lk_log ERROR 10402 "recovery failed: could not stop the application"
        return 1
    fi
    if ! lk_start_app; then
        lk_log ERROR 10402 "recovery failed: could not start the application again"
        return 1
    fi
    lk_log INFO 10401 "application restarted in place"
    return 0
}
