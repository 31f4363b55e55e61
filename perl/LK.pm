# LK: the Perl API LifeKeeper's gen/app scripts call (`use LK;`), as OpenKeeper provides it.
# lkd installs it as $LKROOT/lib/perl/LK.pm; /etc/default/LifeKeeper.pl puts that directory
# on @INC. Every function runs the LifeKeeper command of the same name from $LKROOT/bin
# (docs/LIFEKEEPER.md, "Scripts: arguments, environment, Perl"), leaves $? as the command
# did, and returns its output in the shape LifeKeeper's scripts expect.
#
# It owns the translation from a Perl call to a command line. It must never run a shell
# (commands are exec'd in list form, so no argument is ever interpreted), never die on a
# command's failure (the caller reads $?), and never cache what the cluster says.
package LK;

use strict;
use warnings;
use POSIX ();

our $VERSION = '1.0';

# sys_getstate's answers (docs/LIFEKEEPER.md: our numbering).
our $UNKNOWN = 0;
our $ALIVE   = 1;
our $DEAD    = 2;

# Resource states, as ins_list field 7 spells them.
our $ISP = 'ISP';
our $ISU = 'ISU';
our $OSU = 'OSU';
our $OSF = 'OSF';

use constant {UNKNOWN => 0, ALIVE => 1, DEAD => 2, ISP => 'ISP', ISU => 'ISU', OSU => 'OSU',
              OSF => 'OSF'};

# The root the commands are run from: $ENV{LKROOT} when the module is loaded, else
# OpenKeeper's default. A script may change $LK::LKROOT before calling.
our $LKROOT = (defined $ENV{LKROOT} && $ENV{LKROOT} ne '') ? $ENV{LKROOT} : '/opt/openkeeper';

# Runs $LKROOT/bin/$cmd with @args (no shell), stdin from /dev/null; returns its standard
# output (its standard error goes to the script's), with $? set as the command exited.
sub _run {
    my ($cmd, @args) = @_;
    my $path = "$LKROOT/bin/$cmd";
    my $pid = open(my $fh, '-|');
    if (!defined $pid) {
        print STDERR "LK: cannot run $cmd: $!\n";
        $? = 1 << 8;
        return '';
    }
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        # The command finds its lkd through $LKROOT: the root it is run from, also when the
        # script changed $LK::LKROOT.
        $ENV{LKROOT} = $LKROOT;
        { exec {$path} $path, @args; }
        print STDERR "LK: cannot run '$path': $!\n";
        POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh>;
    close($fh);    # sets $? to the command's status
    return defined $out ? $out : '';
}

# Options with a value, only when the value is given and not ''.
sub _opts {
    my @pairs = @_;
    my @args;
    while (@pairs) {
        my ($opt, $value) = splice(@pairs, 0, 2);
        push @args, $opt, $value if defined $value && $value ne '';
    }
    return @args;
}

# A record as the script expects it: the list commands print a field's backslash,
# separator or control character as \ooo (docs/LIFEKEEPER.md); every escape is turned back
# into its byte except \001, which would split the field in two.
sub _unescape {
    my ($rec) = @_;
    $rec =~ s/\\([0-3][0-7]{2})/$1 eq '001' ? "\\001" : chr(oct($1))/ge;
    return $rec;
}

# Records, one a line, unescaped; in scalar context the first one (undef when there is none).
sub _records {
    my ($out) = @_;
    my @records = map { _unescape($_) } grep { $_ ne '' } split(/\n/, $out);
    return wantarray ? @records : $records[0];
}

sub _line {
    my ($out) = @_;
    $out =~ s/\n.*\z//s;
    return $out;
}

# This node's name.
sub lcduname {
    return _line(_run('lcduname'));
}

# ins_list($dest, $top, $app, $typ, $tag, $id): the resources' records (fields separated by
# "\001"); '' or undef = any (or this node for $dest).
sub ins_list {
    my ($dest, $top, $app, $typ, $tag, $id) = @_;
    # The separator is named although it is the default: the records are ^A-separated
    # whatever the command's default.
    my $out = _run('ins_list', '-f', "\001",
                   _opts(-d => $dest, -R => $top, -a => $app, -r => $typ, -t => $tag, -i => $id));
    return wantarray ? _records($out) : scalar(_records($out));
}

# ins_setstate($dest, $tag, $state, $reason): ISP, ISU or OSU without running a script.
sub ins_setstate {
    my ($dest, $tag, $state, $reason) = @_;
    return _run('ins_setstate', _opts(-d => $dest, -t => $tag, -S => $state, -R => $reason));
}

# ins_setinfo($dest, $tag, $info): the resource's info field.
sub ins_setinfo {
    my ($dest, $tag, $info) = @_;
    my @args = _opts(-d => $dest, -t => $tag);
    return _run('ins_setinfo', @args, '-v', defined $info ? $info : '');
}

# ins_gettag($dest, $id): the tag of the resource with that id.
sub ins_gettag {
    my ($dest, $id) = @_;
    return _line(_run('ins_gettag', _opts(-d => $dest, -i => $id)));
}

# ins_setchkint($dest, $tag, $which, $interval): $which 'q' (quick check) or 'd' (deep).
sub ins_setchkint {
    my ($dest, $tag, $which, $interval) = @_;
    return _run('ins_setchkint', _opts(-d => $dest, -t => $tag, -c => $which, -v => $interval));
}

# ins_setas($dest, $tag, $strategy): INTELLIGENT or AUTOMATIC switchback.
sub ins_setas {
    my ($dest, $tag, $strategy) = @_;
    return _run('ins_setas', _opts(-d => $dest, -t => $tag, -s => $strategy));
}

# eqv_list($dest, $sys, $tag): one record per other node the resource is extended to.
sub eqv_list {
    my ($dest, $sys, $tag) = @_;
    my $out = _run('eqv_list', _opts(-d => $dest, -s => $sys, -t => $tag));
    return wantarray ? _records($out) : scalar(_records($out));
}

# dep_list($dest, $option, $tag): the dependencies' records; $option one of 'C' (all
# children of $tag), 'P' (all parents), 'c' (children of parent $tag), 'p' (parents of child
# $tag), or '' for every dependency.
sub dep_list {
    my ($dest, $option, $tag) = @_;
    my @args = _opts(-d => $dest);
    if (defined $option && $option ne '') {
        push @args, "-$option";
        push @args, $tag if defined $tag && $tag ne '';
    }
    my $out = _run('dep_list', @args);
    return wantarray ? _records($out) : scalar(_records($out));
}

# sys_getstate($dest, $sys): $ALIVE, $DEAD or $UNKNOWN ($UNKNOWN also when it fails).
sub sys_getstate {
    my ($dest, $sys) = @_;
    my $word = _line(_run('sys_getstate', _opts(-d => $dest, -s => $sys)));
    return $word eq 'ALIVE' ? $ALIVE : $word eq 'DEAD' ? $DEAD : $UNKNOWN;
}

# lcdstatus(@options): its text ('-q' for the short shape, '-d', '-e', '-r', '-u' as the
# command takes them).
sub lcdstatus {
    return _run('lcdstatus', @_);
}

# sendevent(@options): an event, with the command's options as they are
# (-C class -E event -m monitor -n name [-s severity] ...).
sub sendevent {
    return _run('sendevent', @_);
}

# lcdremexec($node, $command, $timeout): $command run by a shell on $node; returns its
# output, $? its exit status (9 << 8 when $node cannot be reached).
sub lcdremexec {
    my ($node, $command, $timeout) = @_;
    return _run('lcdremexec', _opts(-d => $node, -t => $timeout), '--', $command);
}

# lcdrcp(@files, "$node:$path"): copies the files to $node.
sub lcdrcp {
    return _run('lcdrcp', @_);
}

1;
