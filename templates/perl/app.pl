#!/usr/bin/perl
# OpenKeeper gen/app template (Perl): one script for all five actions.
#
# OpenKeeper runs it as restore, remove, quickchk, deepchk and recover, and
# says which in LK_ACTION; the work is done by the helper library lib.pl,
# which OpenKeeper puts in the directory named by LK_HELPERS:
#     lkcli resource create gen --tag myapp --app-info /var/lib/myapp/ok \
#         --restore app.pl --remove app.pl --quickchk app.pl --deepchk app.pl \
#         --recover app.pl --helper lib.pl
#
#   restore   start @APP_CMD detached unless it runs (its pid in a pidfile),
#             wait until it is up, passes app_check and, with $APP_PORT,
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
# Try it by hand, beside lib.pl (lk_err is not needed: messages then go to
# stderr; without LK_HELPERS the library is looked for beside this script):
#   env -i LKROOT=/tmp/lk LK_TAG=app1 LK_ID=app1 LK_APP_INFO=/tmp/lk/state \
#       LK_ACTION=restore LK_NODE=n1 PATH=/usr/bin:/bin LANG=C ./app.pl; echo $?
# or, once the resource exists: lkcli resource test --tag app1 --action restore
#
# Core Perl modules only.

use strict;
use warnings;
use File::Basename ();
use File::Spec ();

# ---- Settings: adapt these to your application -----------------------------

# The command that runs the application in the FOREGROUND, as a list (no
# shell, no quoting problems). It must not put itself into the background
# (no "daemonize" mode): the pid recorded in the pidfile has to stay the
# application's pid. The first word is looked up in PATH (set below). To run
# as another user, prefix: ('setpriv', '--reuid=app', '--regid=app',
# '--init-groups', '/usr/bin/app', ...). The default is a stand-in that just
# sleeps "forever" (~68 years).
my @APP_CMD = ('sleep', '2147483647');

# How the command line in /proc/PID/cmdline must look for the recorded pid
# to count as ours - this protects against a stale pidfile whose pid now
# belongs to some other process. undef means "exactly @APP_CMD"; otherwise a
# regular expression matched against the arguments joined by single blanks.
# With a setpriv prefix or a wrapper that execs, the command line is the
# application's own, e.g. qr{^/usr/bin/app( |$)}.
my $APP_MATCH = undef;

# Working directory of the application (OpenKeeper runs us in $LKROOT).
my $APP_DIR = '/';

# 'HOST:PORT' the application listens on, e.g. $APP_PORT = '127.0.0.1:8080'.
# When set, restore waits until it accepts connections and deepchk checks it
# (app_check below). undef: no port.
my $APP_PORT = undef;

# Time limits in seconds. Keep START_TIMEOUT + START_SETTLE and
# STOP_TIMEOUT + KILL_TIMEOUT below the resource's action timeout
# (default 300 s), or the daemon kills this script first.
my $START_TIMEOUT = 30;    # for the process to be up and app_check to pass
my $START_SETTLE  = 1;     # it must still be up this long afterwards (0 = skip)
my $STOP_TIMEOUT  = 30;    # after SIGTERM, before SIGKILL
my $KILL_TIMEOUT  = 5;     # after SIGKILL, before giving up

# The environment. OpenKeeper runs this script with an environment built from
# scratch: LKROOT, LK_TAG, LK_ID, LK_APP_INFO, LK_ACTION, LK_NODE, LK_HELPERS,
# PATH and LANG=C, nothing else. Set here whatever the application needs
# (%ENV is passed on to it); never rely on the environment of the shell you
# test from.
$ENV{PATH} = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
$ENV{PATH} = "$ENV{LKROOT}/bin:$ENV{PATH}"     # lk_err lives in $LKROOT/bin
    if defined $ENV{LKROOT} && $ENV{LKROOT} ne '';
# $ENV{JAVA_HOME}    = '/usr/lib/jvm/default-java';
# $ENV{MYAPP_CONFIG} = '/etc/myapp.conf';
umask 022;

# State directory for the pidfile and the application's output log:
# LK_APP_INFO when it is an absolute path (lkcli resource create ...
# --app-info /var/lib/myapp/openkeeper), else /run/openkeeper/<tag>.
# It must be a local directory: never share a pidfile between nodes.
my $TAG = (defined $ENV{LK_TAG} && $ENV{LK_TAG} ne '') ? $ENV{LK_TAG} : 'unnamed';
my $STATE_DIR = (defined $ENV{LK_APP_INFO} && $ENV{LK_APP_INFO} =~ m{^/})
    ? $ENV{LK_APP_INFO} : "/run/openkeeper/$TAG";
my $PIDFILE = "$STATE_DIR/app.pid";
my $LOGFILE = "$STATE_DIR/app.log";    # grows: rotate it with logrotate copytruncate

my $ACTION = (defined $ENV{LK_ACTION} && $ENV{LK_ACTION} ne '') ? $ENV{LK_ACTION} : 'app';

# ---- The helper library ------------------------------------------------------

# lib.pl from LK_HELPERS (beside this script when it is not set).
{
    my $where = (defined $ENV{LK_HELPERS} && $ENV{LK_HELPERS} ne '')
        ? $ENV{LK_HELPERS}
        : File::Basename::dirname(File::Spec->rel2abs(__FILE__));
    my $lib = File::Spec->rel2abs("$where/lib.pl");
    if (!-f $lib) {
        my $msg = "helper library $lib missing: give it to the resource with --helper lib.pl";
        print STDERR "$ACTION: $msg\n";
        system { 'sh' } 'sh', '-c', 'command -v lk_err >/dev/null 2>&1 && '
            . 'lk_err -c ERROR -n 10010 -p "$1" "$2" </dev/null >/dev/null 2>&1', 'sh',
            $ACTION, $msg;
        exit 1;
    }
    require $lib;
}

# ---- Application-level check ------------------------------------------------

# app_check(PID): is the running application actually working? restore waits
# for this to pass (readiness) and deepchk runs it (health). Return undef
# when healthy, a short reason when not. Keep it bounded in time (a check
# that hangs is killed by the daemon), for example:
#     system('timeout', '10', 'curl', '-fsS', '-o', '/dev/null',
#            'http://127.0.0.1:8080/health') == 0 or return 'no answer on :8080';
# The stand-in below checks that the process is neither stopped nor a zombie
# and, when $APP_PORT is set, that the port accepts connections.
sub app_check {
    my ($pid) = @_;
    my $why = LkApp::proc_ok($pid);
    return $why if defined $why;
    if (defined $APP_PORT) {
        my ($host, $port) = $APP_PORT =~ /^(.*):(\d+)$/;
        return "$APP_PORT does not accept connections"
            unless defined $port && LkApp::port_open($host, $port);
    }
    return undef;
}

# ---- Main: one branch per action ---------------------------------------------

my $app = LkApp->new(
    cmd => \@APP_CMD, match => $APP_MATCH, cwd => $APP_DIR,
    pidfile => $PIDFILE, logfile => $LOGFILE, check => \&app_check,
    start_timeout => $START_TIMEOUT, start_settle => $START_SETTLE,
    stop_timeout => $STOP_TIMEOUT, kill_timeout => $KILL_TIMEOUT,
);
my $ok;
if    ($ACTION eq 'restore')  { $ok = $app->start() }
elsif ($ACTION eq 'remove')   { $ok = $app->stop() }
elsif ($ACTION eq 'quickchk') { $ok = $app->check(0) }
elsif ($ACTION eq 'deepchk')  { $ok = $app->check(1) }
elsif ($ACTION eq 'recover')  { $ok = $app->recover() }
else {
    LkApp::logmsg('ERROR', 10010, "unknown LK_ACTION '$ACTION': expected restore, remove, "
        . 'quickchk, deepchk or recover');
    $ok = 0;
}
# Exit 0 or 1, nothing else (see templates/README.md).
exit($ok ? 0 : 1);
