# OpenKeeper gen/app helper library (Perl 5, core modules only), loaded by
# app.pl with `require`.
#
# Give it to the resource with its script, as a helper file:
#     lkcli resource create gen --tag myapp --app-info /var/lib/myapp/ok \
#         --restore app.pl --remove app.pl --quickchk app.pl --deepchk app.pl \
#         --recover app.pl --helper lib.pl
# OpenKeeper copies it to every node the resource is extended to, into the
# directory named by $LK_HELPERS, and `lkcli resource update-script --tag
# myapp --helper lib.pl` installs a new version everywhere. One copy can
# serve any number of resources: nothing in it is specific to one
# application; the script passes its settings to LkApp->new.
#
#   LkApp::logmsg(CATEGORY, NUMBER, MESSAGE)  the event log through lk_err, or stderr
#   LkApp::wait_until(SECONDS, CODE)          poll CODE until true, bounded
#   LkApp::port_open(HOST, PORT)              does HOST:PORT accept a connection (5 s)
#   LkApp::wait_port(HOST, PORT, SECONDS)     wait for it
#   LkApp::proc_ok(PID)                       undef when alive, neither stopped nor
#                                             a zombie; else the reason
#   LkApp->new(...)->start / stop / check(DEEP) / recover
#                                             restore / remove / quickchk or deepchk /
#                                             recover; true for success
# Message numbers: see templates/README.md.

package LkApp;

use strict;
use warnings;
use POSIX ();
use Time::HiRes ();
use File::Path ();
use IO::Socket::INET ();

our $PROG = (defined $ENV{LK_ACTION} && $ENV{LK_ACTION} ne '') ? $ENV{LK_ACTION} : 'app';

# find_in_path(NAME): the full path of an executable in PATH, or undef.
sub find_in_path {
    my ($name) = @_;
    for my $dir (split /:/, $ENV{PATH}) {
        my $f = "$dir/$name";
        return $f if -f $f && -x _;
    }
    return undef;
}

# run_quiet(COMMAND...): run a command with stdin, stdout and stderr on
# /dev/null; return its exit status (-1 if it could not be run).
sub run_quiet {
    my @cmd = @_;
    my $pid = fork;
    return -1 unless defined $pid;
    if ($pid == 0) {
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $?;
}

# logmsg(CATEGORY, NUMBER, MESSAGE): write to OpenKeeper's event log with
# lk_err (in $LKROOT/bin, which the script puts on PATH). CATEGORY is ERROR,
# WARNING or INFO. When lk_err is missing (a hand test outside the daemon)
# or fails, the message goes to stderr instead, which the daemon keeps in
# the resource's action log.
sub logmsg {
    my ($cat, $num, $msg) = @_;
    my $lk_err = find_in_path('lk_err');
    return if defined $lk_err
        && run_quiet($lk_err, '-c', $cat, '-n', $num, '-p', $PROG, $msg) == 0;
    print STDERR "$PROG: *$cat* (No. $num) $msg\n";
}

# wait_until(SECONDS, CODE): call CODE every 0.2 s until it returns true;
# false after SECONDS.
sub wait_until {
    my ($secs, $code) = @_;
    my $deadline = Time::HiRes::time() + $secs;
    while (1) {
        return 1 if $code->();
        return 0 if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.2);
    }
}

# port_open(HOST, PORT[, TIMEOUT]): does HOST:PORT accept a TCP connection
# within TIMEOUT (5) seconds?
sub port_open {
    my ($host, $port, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp',
                                  Timeout => $timeout // 5);
    return 0 unless $s;
    close $s;
    return 1;
}

# wait_port(HOST, PORT, SECONDS): wait until HOST:PORT accepts connections.
sub wait_port {
    my ($host, $port, $secs) = @_;
    return wait_until($secs, sub { port_open($host, $port, 2) });
}

# proc_stat(PID): (state, ppid, pgrp) from /proc/PID/stat, or () if gone.
sub proc_stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return ();
    my $stat = <$fh>;
    close $fh;
    return () unless defined $stat;
    $stat =~ s/^.*\) //s;                 # drop "pid (comm) ": comm may hold blanks
    return (split / /, $stat)[0, 1, 2];
}

# proc_ok(PID): undef when PID is alive, not stopped (SIGSTOP, state T) and
# not a zombie; otherwise the reason.
sub proc_ok {
    my ($pid) = @_;
    my ($state) = proc_stat($pid);
    return "pid $pid vanished" unless defined $state;
    return "pid $pid is stopped (state $state)" if $state =~ /^[Tt]$/;
    return "pid $pid is a zombie (state $state)" if $state =~ /^[ZX]$/;
    return undef;
}

# proc_gone(PID): PID has exited (it may linger as a zombie until reaped).
sub proc_gone {
    my ($state) = proc_stat($_[0]);
    return !defined $state || $state =~ /^[ZX]$/;
}

# cmdline(PID): the argument list of PID; empty for a zombie or when gone.
sub cmdline {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return ();
    local $/;
    my $raw = <$fh>;
    close $fh;
    return () unless defined $raw && $raw ne '';
    $raw =~ s/\0\z//;
    return split /\0/, $raw, -1;
}

# describe_status(WAIT_STATUS): "status N" or "signal N".
sub describe_status {
    my ($st) = @_;
    return 'signal ' . ($st & 127) if $st & 127;
    return 'status ' . ($st >> 8);
}

# LkApp->new(cmd => [...], pidfile => F, logfile => F, check => CODE,
#            match => undef|qr//, cwd => '/', start_timeout => 30,
#            start_settle => 1, stop_timeout => 30, kill_timeout => 5):
# an application run in the foreground, tracked by a pidfile. check->(PID)
# returns undef when healthy, else the reason (restore's readiness and
# deepchk's health).
sub new {
    my ($class, %o) = @_;
    my $self = {
        cwd => '/', start_timeout => 30, start_settle => 1, stop_timeout => 30,
        kill_timeout => 5, match => undef, %o,
    };
    ($self->{state_dir} = $self->{pidfile}) =~ s{/[^/]*\z}{};
    $self->{state_dir} = '/' if $self->{state_dir} eq '';
    return bless $self, $class;
}

# read_pid(): the pid in the pidfile, or undef.
sub read_pid {
    my ($self) = @_;
    open my $fh, '<', $self->{pidfile} or return undef;
    my $line = <$fh>;
    close $fh;
    return (defined $line && $line =~ /^\s*(\d+)\s*$/) ? $1 : undef;
}

# write_pid(PID): write the pidfile through a rename, so that nobody ever
# reads half a file.
sub write_pid {
    my ($self, $pid) = @_;
    my $tmp = "$self->{pidfile}.new";
    open my $fh, '>', $tmp or return 0;
    print $fh "$pid\n";
    close $fh or return 0;
    return rename $tmp, $self->{pidfile};
}

# is_app_pid(PID): is PID alive and running our application? A zombie has
# an empty command line, so it does not count as alive.
sub is_app_pid {
    my ($self, $pid) = @_;
    my @args = cmdline($pid);
    return 0 unless @args;
    return join(' ', @args) =~ $self->{match} ? 1 : 0 if defined $self->{match};
    return join("\0", @args) eq join("\0", @{ $self->{cmd} }) ? 1 : 0;
}

# running_pid(): the application's pid if it is running, else undef.
sub running_pid {
    my ($self) = @_;
    my $pid = $self->read_pid();
    return (defined $pid && $self->is_app_pid($pid)) ? $pid : undef;
}

sub is_up {
    my ($self) = @_;
    my $pid = $self->running_pid();
    return defined $pid && !defined $self->{check}->($pid);
}

# signal_app(SIGNAL, PID): signal the application. It is started in a
# session of its own, so it leads its own process group: signal the whole
# group, so that worker processes it forked get the signal too.
sub signal_app {
    my ($sig, $pid) = @_;
    my (undef, undef, $pgrp) = proc_stat($pid);
    if (defined $pgrp && $pgrp == $pid) {
        return if kill "-$sig", $pid;
    }
    kill $sig, $pid;
}

# show_log_tail(): copy the end of the application's log to stderr, where
# the daemon keeps it in the action log (and a failed run's tail in the
# event log).
sub show_log_tail {
    my ($self) = @_;
    open my $fh, '<', $self->{logfile} or return;
    my @lines = <$fh>;
    close $fh;
    return unless @lines;
    splice @lines, 0, @lines - 10 if @lines > 10;
    print STDERR "--- last lines of $self->{logfile} ---\n", @lines;
}

# start_daemon(): start the command detached; its pid, or undef. setsid
# gives it a session (and process group) of its own, so it shares no
# signals with this script or the daemon; stdin is /dev/null, its output
# goes to the log (never to our stdout/stderr) and it keeps no other file
# descriptor of ours. It stays in the resource's cgroup, where OpenKeeper
# starts every script (nothing moves it out): the cgroup watch, the kill at
# remove and the usage figures cover it.
sub start_daemon {
    my ($self) = @_;
    my @cmd = @{ $self->{cmd} };
    my $child = fork;
    return undef unless defined $child;
    if ($child == 0) {
        POSIX::setsid();
        open STDIN,  '<',  '/dev/null';
        open STDOUT, '>>', $self->{logfile};
        open STDERR, '>&', \*STDOUT;
        if (opendir my $dh, '/proc/self/fd') {
            my @fds = grep { /^\d+$/ && $_ > 2 } readdir $dh;
            closedir $dh;
            POSIX::close($_) for @fds;
        }
        chdir $self->{cwd} or print STDERR "openkeeper-start: cannot chdir to $self->{cwd}: $!\n";
        no warnings 'exec';     # we say it ourselves, once
        exec { $cmd[0] } @cmd
            or print STDERR "openkeeper-start: cannot run $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    return $child;
}

# start(): restore. Start the application unless it already runs
# (idempotent); wait until it is up and passes the check, then make sure it
# is still up start_settle seconds later. True on success.
sub start {
    my ($self) = @_;
    my ($pidfile, $logfile) = @$self{qw(pidfile logfile)};
    my $pid = $self->running_pid();
    if (defined $pid) {
        logmsg('INFO', 10001, "application already running (pid $pid); nothing to do");
        return 1;
    }
    if (!-d $self->{state_dir}) {
        File::Path::make_path($self->{state_dir}, { error => \my $err });
        if (!-d $self->{state_dir}) {
            logmsg('ERROR', 10009, "cannot create state directory $self->{state_dir}");
            return 0;
        }
    }
    if (-e $pidfile) {
        my $old = $self->read_pid();
        logmsg('WARNING', 10005, "removing stale pidfile $pidfile (pid "
            . (defined $old ? $old : '?') . ' is not the application)');
        unlink $pidfile;
    }
    my $log;
    if (!open $log, '>>', $logfile) {
        logmsg('ERROR', 10009, "cannot open $logfile: $!");
        return 0;
    }
    print $log '=== ' . POSIX::strftime('%Y-%m-%d %H:%M:%S', localtime)
        . ": $PROG starting: @{ $self->{cmd} }\n";
    close $log;

    my $child = $self->start_daemon();
    if (!defined $child) {
        logmsg('ERROR', 10003, "cannot fork: $!");
        return 0;
    }
    if (!$self->write_pid($child)) {
        logmsg('ERROR', 10009, "cannot write $pidfile: $!");
        signal_app('KILL', $child);
        return 0;
    }

    # Wait until it is up - or until the process has already exited (a bad
    # command or configuration), so as to fail at once. It is our child
    # until we exit, so we can reap it and learn its exit status.
    my $exited;
    my $reap = sub {
        $exited = $? if !defined $exited && waitpid($child, POSIX::WNOHANG()) == $child;
        return defined $exited;
    };
    wait_until($self->{start_timeout}, sub { $self->is_up() || $reap->() });
    if (!$self->is_up()) {
        if (defined $self->running_pid()) {
            my $why = $self->{check}->($child) // 'no reason given';
            logmsg('ERROR', 10003, "application (pid $child) did not pass app_check within "
                . "$self->{start_timeout} s ($why); stopping it");
            $self->stop();
        } else {
            if ($reap->()) {
                logmsg('ERROR', 10003, 'application exited at once with '
                    . describe_status($exited) . "; see $logfile");
            } else {
                logmsg('ERROR', 10003, "application did not start within "
                    . "$self->{start_timeout} s; see $logfile");
                # Leave no half-started child behind (for instance when the
                # match does not match the real command line).
                signal_app('TERM', $child);
            }
            unlink $pidfile;
        }
        $self->show_log_tail();
        return 0;
    }
    if ($self->{start_settle} > 0) {
        # Many programs that fail on a bad configuration die within a moment.
        Time::HiRes::sleep($self->{start_settle});
        if (!$self->is_up()) {
            my $how = $reap->() ? 'exited with ' . describe_status($exited) : 'failed app_check';
            logmsg('ERROR', 10004, "application (pid $child) $how right after starting; see $logfile");
            if (defined $self->running_pid()) {
                $self->stop();
            } else {
                unlink $pidfile;
            }
            $self->show_log_tail();
            return 0;
        }
    }
    logmsg('INFO', 10002, "application started (pid $child)");
    return 1;
}

# stop(): remove. Stop the application if it runs (idempotent: "not
# running" is success). SIGTERM first, SIGKILL after stop_timeout. True on
# success.
sub stop {
    my ($self) = @_;
    my $pid = $self->running_pid();
    if (!defined $pid) {
        unlink $self->{pidfile};    # stale or absent: either way, gone
        logmsg('INFO', 10101, 'application not running; nothing to stop');
        return 1;
    }
    signal_app('TERM', $pid);
    if (wait_until($self->{stop_timeout}, sub { !$self->is_app_pid($pid) })) {
        logmsg('INFO', 10102, "application stopped (pid $pid)");
    } else {
        logmsg('WARNING', 10103, "application (pid $pid) still running $self->{stop_timeout} s "
            . 'after SIGTERM; sending SIGKILL');
        signal_app('KILL', $pid);
        if (!wait_until($self->{kill_timeout}, sub { !$self->is_app_pid($pid) })) {
            logmsg('ERROR', 10104, "application (pid $pid) still running after SIGKILL");
            return 0;
        }
        logmsg('INFO', 10102, "application killed (pid $pid)");
    }
    # Sweep up anything left in its process group (workers that ignored
    # SIGTERM). Fails harmlessly when the group is already empty.
    kill '-KILL', $pid;
    unlink $self->{pidfile};
    return 1;
}

# check(DEEP): quickchk (the process in the pidfile is there) or, with DEEP,
# deepchk (and then the application-level check). Silent when all is well.
sub check {
    my ($self, $deep) = @_;
    my $pid = $self->running_pid();
    if (!defined $pid) {
        $pid = $self->read_pid();
        if (defined $pid) {
            logmsg('ERROR', 10202, "application not running: pid $pid from $self->{pidfile} "
                . 'is gone or is not the application');
        } else {
            logmsg('ERROR', 10201, "application not running: no pidfile $self->{pidfile}");
        }
        return 0;
    }
    return 1 unless $deep;
    my $why = $self->{check}->($pid);
    if (defined $why) {
        logmsg('ERROR', 10301, "application check failed (pid $pid): $why");
        return 0;
    }
    return 1;
}

# recover(): the same stop as remove, then the same start as restore.
sub recover {
    my ($self) = @_;
    if (!$self->stop()) {
        logmsg('ERROR', 10402, 'recovery failed: could not stop the application');
        return 0;
    }
    if (!$self->start()) {
        logmsg('ERROR', 10402, 'recovery failed: could not start the application again');
        return 0;
    }
    logmsg('INFO', 10401, 'application restarted in place');
    return 1;
}

1;
