#!/usr/bin/python3
# OpenKeeper gen/app template (Python 3): one script for all five actions.
#
# OpenKeeper runs it as restore, remove, quickchk, deepchk and recover, and
# says which in LK_ACTION; the work is done by the helper library lib.py,
# which OpenKeeper puts in the directory named by LK_HELPERS:
#     lkcli resource create gen --tag myapp --app-info /var/lib/myapp/ok \
#         --restore app.py --remove app.py --quickchk app.py --deepchk app.py \
#         --recover app.py --helper lib.py
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
# Try it by hand, beside lib.py (lk_err is not needed: messages then go to
# stderr; without LK_HELPERS the library is looked for beside this script):
#   env -i LKROOT=/tmp/lk LK_TAG=app1 LK_ID=app1 LK_APP_INFO=/tmp/lk/state \
#       LK_ACTION=restore LK_NODE=n1 PATH=/usr/bin:/bin LANG=C ./app.py; echo $?
# or, once the resource exists: lkcli resource test --tag app1 --action restore
#
# Python 3 standard library only.

import importlib.util
import os
import shutil
import subprocess
import sys

# ---- Settings: adapt these to your application -----------------------------

# The command that runs the application in the FOREGROUND, as a list (no
# shell, no quoting problems). It must not put itself into the background
# (no "daemonize" mode): the pid recorded in the pidfile has to stay the
# application's pid. The first word is looked up in PATH (set below). To run
# as another user, prefix: ["setpriv", "--reuid=app", "--regid=app",
# "--init-groups", "/usr/bin/app", ...]. The default is a stand-in that just
# sleeps "forever" (~68 years).
APP_CMD = ["sleep", "2147483647"]

# How the command line in /proc/PID/cmdline must look for the recorded pid
# to count as ours - this protects against a stale pidfile whose pid now
# belongs to some other process. None means "exactly APP_CMD"; otherwise a
# regular expression searched in the arguments joined by single blanks.
# With a setpriv prefix or a wrapper that execs, the command line is the
# application's own, e.g. r"^/usr/bin/app( |$)".
APP_MATCH = None

# Working directory of the application (OpenKeeper runs us in $LKROOT).
APP_DIR = "/"

# (HOST, PORT) the application listens on, e.g. APP_PORT = ("127.0.0.1", 8080).
# When set, restore waits until it accepts connections and deepchk checks it
# (app_check below). None: no port.
APP_PORT = None

# Time limits in seconds. Keep START_TIMEOUT + START_SETTLE and
# STOP_TIMEOUT + KILL_TIMEOUT below the resource's action timeout
# (default 300 s), or the daemon kills this script first.
START_TIMEOUT = 30    # for the process to be up and app_check to pass
START_SETTLE = 1      # it must still be up this long afterwards (0 = skip)
STOP_TIMEOUT = 30     # after SIGTERM, before SIGKILL
KILL_TIMEOUT = 5      # after SIGKILL, before giving up

# The environment. OpenKeeper runs this script with an environment built from
# scratch: LKROOT, LK_TAG, LK_ID, LK_APP_INFO, LK_ACTION, LK_NODE, LK_HELPERS,
# PATH and LANG=C, nothing else. Set here whatever the application needs
# (os.environ is passed on to it); never rely on the environment of the shell
# you test from.
os.environ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if os.environ.get("LKROOT"):
    # lk_err lives in $LKROOT/bin
    os.environ["PATH"] = os.environ["LKROOT"] + "/bin:" + os.environ["PATH"]
# os.environ["JAVA_HOME"] = "/usr/lib/jvm/default-java"
# os.environ["MYAPP_CONFIG"] = "/etc/myapp.conf"
os.umask(0o022)

# State directory for the pidfile and the application's output log:
# LK_APP_INFO when it is an absolute path (lkcli resource create ...
# --app-info /var/lib/myapp/openkeeper), else /run/openkeeper/<tag>.
# It must be a local directory: never share a pidfile between nodes.
if os.environ.get("LK_APP_INFO", "").startswith("/"):
    STATE_DIR = os.environ["LK_APP_INFO"]
else:
    STATE_DIR = "/run/openkeeper/" + (os.environ.get("LK_TAG") or "unnamed")
PIDFILE = os.path.join(STATE_DIR, "app.pid")
LOGFILE = os.path.join(STATE_DIR, "app.log")  # grows: rotate it (logrotate copytruncate)

ACTION = os.environ.get("LK_ACTION") or "app"


# ---- The helper library ------------------------------------------------------

def load_helpers():
    """lib.py from LK_HELPERS (beside this script when it is not set)."""
    where = os.environ.get("LK_HELPERS") or os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(where, "lib.py")
    if not os.path.isfile(path):
        msg = "helper library %s missing: give it to the resource with --helper lib.py" % path
        sys.stderr.write("%s: %s\n" % (ACTION, msg))
        lk_err = shutil.which("lk_err")
        if lk_err:
            subprocess.call([lk_err, "-c", "ERROR", "-n", "10010", "-p", ACTION, msg],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=30)
        sys.exit(1)
    # No __pycache__ beside it: the directory is OpenKeeper's copy of the helpers.
    sys.dont_write_bytecode = True
    spec = importlib.util.spec_from_file_location("lk_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lk = load_helpers()


# ---- Application-level check ------------------------------------------------

def app_check(pid):
    """Is the running application actually working?

    restore waits for this to pass (readiness) and deepchk runs it (health).
    Return None when healthy, a short reason when not. Keep it bounded in
    time (a check that hangs is killed by the daemon), for example:

        import urllib.request
        try:
            urllib.request.urlopen("http://127.0.0.1:8080/health", timeout=10)
        except Exception as e:
            return "health URL: %s" % e

    The stand-in below checks that the process is neither stopped nor a
    zombie and, when APP_PORT is set, that the port accepts connections.
    """
    why = lk.proc_ok(pid)
    if why is not None:
        return why
    if APP_PORT is not None and not lk.port_open(*APP_PORT):
        return "%s:%s does not accept connections" % APP_PORT
    return None


# ---- Main: one branch per action ---------------------------------------------

def main():
    app = lk.App(APP_CMD, PIDFILE, LOGFILE, app_check, match=APP_MATCH, cwd=APP_DIR,
                 start_timeout=START_TIMEOUT, start_settle=START_SETTLE,
                 stop_timeout=STOP_TIMEOUT, kill_timeout=KILL_TIMEOUT)
    if ACTION == "restore":
        return app.start()
    if ACTION == "remove":
        return app.stop()
    if ACTION == "quickchk":
        return app.check(deep=False)
    if ACTION == "deepchk":
        return app.check(deep=True)
    if ACTION == "recover":
        return app.recover()
    lk.log("ERROR", 10010, "unknown LK_ACTION '%s': expected restore, remove, quickchk, "
           "deepchk or recover" % ACTION)
    return False


if __name__ == "__main__":
    # Exit 0 or 1, nothing else (see templates/README.md).
    sys.exit(0 if main() else 1)
