# okNas: a gen/app library of the tests' own, written in the calling style of SIOS's
# published gen/app scripts (enhancedNasMounter.pm and its update script), to prove that
# such a library runs unchanged on OpenKeeper. It owns one thing: an "NFS" mount of the
# export named in the resource's info field ("SERVER:/EXPORT MOUNTPOINT"), made with
# `mount -t nfs` found on the PATH (in the tests, a stand-in that bind-mounts a directory),
# unmounted on remove unless the tunable GLOBAL_NAS_APP_SKIP_REMOVE is 1, in which case
# the next restore on another node unmounts it there through lcdremexec first.
#
# It must never run a shell with text it did not build from the resource's own info (the
# info is checked against a strict pattern first), never mount over a directory that is
# not empty and not already this mount, and never exit non-zero after a restore that left
# the export mounted (or zero after one that did not).
package okNas;

use strict;
use warnings;
use LK;

our $VERSION = '1.0';

# Every line goes to stdout (lkd keeps a run's output) and, when the tunable OKNAS_JOURNAL
# names a file, to that file as "NODE ACTION TAG TEXT".
sub journal {
    my ($action, $tag, $text) = @_;
    my $node = LK::lcduname();
    print "okNas: $action $tag: $text\n";
    my $file = $ENV{OKNAS_JOURNAL};
    if (defined $file && $file ne '') {
        if (open(my $fh, '>>', $file)) {
            print $fh "$node $action $tag $text\n";
            close($fh);
        }
    }
}

# The resource's info field (ins_list field 5), split into the export and the mount point.
sub info {
    my ($tag, $id) = @_;
    my $rec = LK::ins_list('', '', '', '', $tag, $id);
    return () unless defined $rec;
    my @f = split(/\001/, $rec);
    my $info = $f[5] // '';
    return () unless $info =~ m{^([A-Za-z0-9._-]+:/[A-Za-z0-9._/-]*) (/[A-Za-z0-9._/-]+)$};
    return ($1, $2);
}

# Whether MOUNTPOINT is a mount point here (/proc/mounts, the second field).
sub mounted {
    my ($mp) = @_;
    open(my $fh, '<', '/proc/mounts') or return 0;
    while (my $line = <$fh>) {
        my @w = split(/\s+/, $line);
        if (defined $w[1] && $w[1] eq $mp) {
            close($fh);
            return 1;
        }
    }
    close($fh);
    return 0;
}

# The other systems the resource is extended to (eqv_list, field 2), each with its state.
sub others {
    my ($tag) = @_;
    my $me = LK::lcduname();
    my @out;
    foreach my $rec (LK::eqv_list('', $me, $tag)) {
        my @f = split(/\x01/, $rec);
        next unless defined $f[2] && $f[2] ne $me;
        push(@out, $f[2]);
    }
    return @out;
}

# lcdremexec on SYSTEM, as SIOS's scripts call it: its exit status.
sub remexec {
    my ($sys, $cmd) = @_;
    system("$ENV{LKROOT}/bin/lcdremexec", '-d', $sys, '--', $cmd);
    return $? == -1 ? 1 : $? >> 8;
}

sub restore {
    my ($tag, $id) = @_;
    my ($export, $mp) = info($tag, $id);
    unless (defined $mp) {
        journal('restore', $tag, 'the info field is not "SERVER:/EXPORT MOUNTPOINT"');
        return 1;
    }
    # Still mounted on another system that is alive (its remove skipped the unmount):
    # unmount it there first, as the NAS script does before it takes the export over.
    foreach my $sys (others($tag)) {
        next unless LK::sys_getstate('', $sys) == $LK::ALIVE;
        my $st = remexec($sys, "grep -qs ' $mp ' /proc/mounts");
        if ($st == 0) {
            journal('restore', $tag, "still mounted on $sys: unmounting it there");
            if (remexec($sys, "umount $mp") != 0) {
                journal('restore', $tag, "umount on $sys failed");
                return 1;
            }
            journal('restore', $tag, "unmounted on $sys through lcdremexec");
        } else {
            journal('restore', $tag, "checked $sys: not mounted (status $st)");
        }
    }
    if (mounted($mp)) {
        journal('restore', $tag, "$mp already mounted");
        return 0;
    }
    my $opts = $ENV{OKNAS_MOUNT_OPTIONS} // 'rw,hard';
    system('mount', '-t', 'nfs', '-o', $opts, $export, $mp);
    if (!mounted($mp)) {
        journal('restore', $tag, "mount of $export on $mp failed");
        return 1;
    }
    journal('restore', $tag, "mounted $export on $mp ($opts)");
    return 0;
}

sub remove {
    my ($tag, $id) = @_;
    my ($export, $mp) = info($tag, $id);
    unless (defined $mp) {
        journal('remove', $tag, 'the info field is not "SERVER:/EXPORT MOUNTPOINT"');
        return 1;
    }
    if (($ENV{GLOBAL_NAS_APP_SKIP_REMOVE} // '0') eq '1') {
        journal('remove', $tag, "GLOBAL_NAS_APP_SKIP_REMOVE=1: $mp left mounted");
        return 0;
    }
    if (mounted($mp)) {
        system('umount', $mp);
        if (mounted($mp)) {
            journal('remove', $tag, "umount of $mp failed");
            return 1;
        }
    }
    journal('remove', $tag, "unmounted $mp");
    return 0;
}

sub quickCheck {
    my ($tag, $id) = @_;
    my ($export, $mp) = info($tag, $id);
    return 1 unless defined $mp;
    return 0 if mounted($mp) && opendir(my $dh, $mp);
    journal('quickCheck', $tag, "$mp is not mounted");
    return 1;
}

1;
