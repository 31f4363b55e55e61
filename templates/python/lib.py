# OpenKeeper gen/app helper library (Python 3, standard library only),
# loaded by app.py.
#
# Give it to the resource with its script, as a helper file:
#     lkcli resource create gen --tag myapp --app-info /var/lib/myapp/ok \
#         --restore app.py --remove app.py --quickchk app.py --deepchk app.py \
#         --recover app.py --helper lib.py
# OpenKeeper copies it to every node the resource is extended to, into the
# directory named by $LK_HELPERS, and `lkcli resource update-script --tag
# myapp --helper lib.py` installs a new version everywhere. One copy can
# serve any number of resources: nothing in it is specific to one
# application; the script passes its settings to App().
#
#   log(category, number, message)   the event log through lk_err, or stderr
#   wait_until(seconds, condition)   poll condition() until true, bounded
#   port_open(host, port)            does host:port accept a connection (5 s)
#   wait_port(host, port, seconds)   wait for it
#   proc_ok(pid)                     None when alive, neither stopped nor a
#                                    zombie; else the reason
#   App(...).start() / .stop() / .check(deep) / .recover()
#                                    restore / remove / quickchk or deepchk /
#                                    recover; True for success
# Message numbers: see templates/README.md.

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

PROG = os.environ.get("LK_ACTION") or "app"


def log(category, number, message):
    """Write to OpenKeeper's event log with lk_err (in $LKROOT/bin, which
    the script puts on PATH). CATEGORY is ERROR, WARNING or INFO. When
    lk_err is missing (a hand test outside the daemon) or fails, the message
    goes to stderr instead, which the daemon keeps in the action log."""
    lk_err = shutil.which("lk_err")
    if lk_err:
        try:
            rc = subprocess.call(
                [lk_err, "-c", category, "-n", str(number), "-p", PROG, message],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=30)
            if rc == 0:
                return
        except (OSError, subprocess.SubprocessError):
            pass
    sys.stderr.write("%s: *%s* (No. %d) %s\n" % (PROG, category, number, message))
    sys.stderr.flush()


def wait_until(seconds, condition):
    """Call CONDITION every 0.2 s until it returns true; False after SECONDS."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def port_open(host, port, timeout=5):
    """Does HOST:PORT accept a TCP connection within TIMEOUT seconds?"""
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
        return True
    except (OSError, ValueError):
        return False


def wait_port(host, port, seconds):
    """Wait until HOST:PORT accepts connections; False after SECONDS."""
    return wait_until(seconds, lambda: port_open(host, port, timeout=2))


def proc_stat(pid):
    """(state, ppid, pgrp) from /proc/PID/stat, or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    # drop "pid (comm) ": comm may hold blanks and parentheses
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def proc_ok(pid):
    """None when PID is alive, not stopped (SIGSTOP, state T) and not a
    zombie; otherwise the reason."""
    st = proc_stat(pid)
    if st is None:
        return "pid %d vanished" % pid
    if st[0] in ("T", "t"):
        return "pid %d is stopped (state %s)" % (pid, st[0])
    if st[0] in ("Z", "X"):
        return "pid %d is a zombie (state %s)" % (pid, st[0])
    return None


def cmdline(pid):
    """The argument list of PID; empty for a zombie or when gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return []
    if not raw:
        return []
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    return [a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0")]


def describe_status(returncode):
    return "signal %d" % -returncode if returncode < 0 else "status %d" % returncode


class App:
    """An application run in the foreground as CMD, tracked by a pidfile.

    cmd: the argument list; match: None (the command line is exactly cmd) or
    a regular expression searched in the arguments joined by blanks;
    check(pid): None when healthy, else the reason (restore's readiness and
    deepchk's health); the rest as the names say."""

    def __init__(self, cmd, pidfile, logfile, check, match=None, cwd="/",
                 start_timeout=30, start_settle=1, stop_timeout=30, kill_timeout=5):
        self.cmd = list(cmd)
        self.match = match
        self.cwd = cwd
        self.pidfile = pidfile
        self.logfile = logfile
        self.state_dir = os.path.dirname(pidfile)
        self.app_check = check
        self.start_timeout = start_timeout
        self.start_settle = start_settle
        self.stop_timeout = stop_timeout
        self.kill_timeout = kill_timeout

    # ---- the pidfile

    def read_pid(self):
        """The pid in the pidfile, or None."""
        try:
            with open(self.pidfile) as f:
                text = f.readline().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def write_pid(self, pid):
        """Write the pidfile through a rename, so nobody reads half a file."""
        tmp = self.pidfile + ".new"
        with open(tmp, "w") as f:
            f.write("%d\n" % pid)
        os.rename(tmp, self.pidfile)

    def remove_pidfile(self):
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass

    def is_app_pid(self, pid):
        """Is PID alive and running our application? A zombie has an empty
        command line, so it does not count as alive."""
        args = cmdline(pid)
        if not args:
            return False
        if self.match is not None:
            return re.search(self.match, " ".join(args)) is not None
        return args == self.cmd

    def running_pid(self):
        """The application's pid if it is running, else None."""
        pid = self.read_pid()
        if pid is not None and self.is_app_pid(pid):
            return pid
        return None

    def is_up(self):
        pid = self.running_pid()
        return pid is not None and self.app_check(pid) is None

    # ---- signals and the log

    @staticmethod
    def signal(sig, pid):
        """Signal the application. It is started in a session of its own, so
        it leads its own process group: signal the whole group, so that
        worker processes it forked get the signal too."""
        st = proc_stat(pid)
        try:
            if st is not None and st[2] == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except OSError:
            pass

    def show_log_tail(self):
        """Copy the end of the application's log to stderr, where the daemon
        keeps it in the action log (and a failed run's tail in the event
        log)."""
        try:
            with open(self.logfile, errors="replace") as f:
                lines = f.readlines()[-10:]
        except OSError:
            return
        if lines:
            sys.stderr.write("--- last lines of %s ---\n" % self.logfile)
            sys.stderr.writelines(lines)
            sys.stderr.flush()

    # ---- the actions

    def start_daemon(self, logf):
        """Start the command detached; the Popen. start_new_session gives it
        a session (and process group) of its own, so it shares no signals
        with this script or the daemon; stdin is /dev/null, its output goes
        to the log (never to our stdout/stderr) and close_fds leaves it no
        other descriptor of ours. It stays in the resource's cgroup, where
        OpenKeeper starts every script (nothing moves it out): the cgroup
        watch, the kill at remove and the usage figures cover it."""
        return subprocess.Popen(
            self.cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            cwd=self.cwd, close_fds=True, start_new_session=True)

    def start(self):
        """restore: start the application unless it already runs
        (idempotent); wait until it is up and passes the check, then make
        sure it is still up start_settle seconds later."""
        pid = self.running_pid()
        if pid is not None:
            log("INFO", 10001, "application already running (pid %d); nothing to do" % pid)
            return True
        try:
            os.makedirs(self.state_dir, exist_ok=True)
        except OSError as e:
            log("ERROR", 10009, "cannot create state directory %s: %s" % (self.state_dir, e))
            return False
        if os.path.lexists(self.pidfile):
            old = self.read_pid()
            log("WARNING", 10005, "removing stale pidfile %s (pid %s is not the application)"
                % (self.pidfile, old if old is not None else "?"))
            self.remove_pidfile()
        try:
            logf = open(self.logfile, "ab")
        except OSError as e:
            log("ERROR", 10009, "cannot open %s: %s" % (self.logfile, e))
            return False
        with logf:
            logf.write(("=== %s: %s starting: %s\n" % (
                time.strftime("%Y-%m-%d %H:%M:%S"), PROG, " ".join(self.cmd))).encode())
            logf.flush()
            try:
                child = self.start_daemon(logf)
            except OSError as e:
                logf.write(("openkeeper-start: cannot run %s: %s\n" % (self.cmd[0], e)).encode())
                log("ERROR", 10003, "cannot start the application: %s" % e)
                return False
        try:
            self.write_pid(child.pid)
        except OSError as e:
            log("ERROR", 10009, "cannot write %s: %s" % (self.pidfile, e))
            self.signal(signal.SIGKILL, child.pid)
            return False

        # Wait until it is up - or until the process has already exited (a
        # bad configuration), so as to fail at once. It is our child until we
        # exit, so poll() reaps it and tells its exit status.
        wait_until(self.start_timeout, lambda: self.is_up() or child.poll() is not None)
        if not self.is_up():
            if self.running_pid() is not None:
                why = self.app_check(child.pid) or "no reason given"
                log("ERROR", 10003, "application (pid %d) did not pass app_check within %s s "
                    "(%s); stopping it" % (child.pid, self.start_timeout, why))
                self.stop()
            else:
                if child.poll() is not None:
                    log("ERROR", 10003, "application exited at once with %s; see %s"
                        % (describe_status(child.returncode), self.logfile))
                else:
                    log("ERROR", 10003, "application did not start within %s s; see %s"
                        % (self.start_timeout, self.logfile))
                    # Leave no half-started child behind (for instance when
                    # the match does not match the real command line).
                    self.signal(signal.SIGTERM, child.pid)
                self.remove_pidfile()
            self.show_log_tail()
            return False
        if self.start_settle > 0:
            # Many programs that fail on a bad configuration die within a
            # moment.
            time.sleep(self.start_settle)
            if not self.is_up():
                if child.poll() is not None:
                    how = "exited with " + describe_status(child.returncode)
                else:
                    how = "failed app_check"
                log("ERROR", 10004, "application (pid %d) %s right after starting; see %s"
                    % (child.pid, how, self.logfile))
                if self.running_pid() is not None:
                    self.stop()
                else:
                    self.remove_pidfile()
                self.show_log_tail()
                return False
        log("INFO", 10002, "application started (pid %d)" % child.pid)
        return True

    def stop(self):
        """remove: stop the application if it runs (idempotent: "not
        running" is success). SIGTERM first, SIGKILL after stop_timeout."""
        pid = self.running_pid()
        if pid is None:
            self.remove_pidfile()  # stale or absent: either way, gone
            log("INFO", 10101, "application not running; nothing to stop")
            return True
        self.signal(signal.SIGTERM, pid)
        if wait_until(self.stop_timeout, lambda: not self.is_app_pid(pid)):
            log("INFO", 10102, "application stopped (pid %d)" % pid)
        else:
            log("WARNING", 10103, "application (pid %d) still running %s s after SIGTERM; "
                "sending SIGKILL" % (pid, self.stop_timeout))
            self.signal(signal.SIGKILL, pid)
            if not wait_until(self.kill_timeout, lambda: not self.is_app_pid(pid)):
                log("ERROR", 10104, "application (pid %d) still running after SIGKILL" % pid)
                return False
            log("INFO", 10102, "application killed (pid %d)" % pid)
        # Sweep up anything left in its process group (workers that ignored
        # SIGTERM). Fails harmlessly when the group is already empty.
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        self.remove_pidfile()
        return True

    def check(self, deep):
        """quickchk (the process in the pidfile is there) or, with DEEP,
        deepchk (and then the application-level check). Silent when all is
        well."""
        pid = self.running_pid()
        if pid is None:
            pid = self.read_pid()
            if pid is not None:
                log("ERROR", 10202, "application not running: pid %d from %s is gone or is "
                    "not the application" % (pid, self.pidfile))
            else:
                log("ERROR", 10201, "application not running: no pidfile %s" % self.pidfile)
            return False
        if not deep:
            return True
        why = self.app_check(pid)
        if why is not None:
            log("ERROR", 10301, "application check failed (pid %d): %s" % (pid, why))
            return False
        return True

    def recover(self):
        """recover: the same stop as remove, then the same start as restore."""
        if not self.stop():
            log("ERROR", 10402, "recovery failed: could not stop the application")
            return False
        if not self.start():
            log("ERROR", 10402, "recovery failed: could not start the application again")
            return False
        log("INFO", 10401, "application restarted in place")
        return True
