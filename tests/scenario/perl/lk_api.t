#!/usr/bin/perl
# The Perl API (perl/LK.pm, perl/LifeKeeper.pl) against a real lkd: run by
# tests/scenario/test_lifekeeper_args.py with LKROOT set to a started node's root that holds
# one resource, LK_TEST_TAG (its tag), LK_TEST_ID, LK_TEST_INFO, LK_TEST_NODE (the node's
# name). Each LK function whose command is installed in $LKROOT/bin is tested; the others are
# skipped, so the file runs before and after every LifeKeeper command exists. A test of a
# new command goes in its own block below.
use strict;
use warnings;
use Test::More;

BEGIN { require "$ENV{LKROOT}/etc/default/LifeKeeper.pl"; }
use LK;

my $root = $ENV{LKROOT};
my $tag  = $ENV{LK_TEST_TAG};
my $id   = $ENV{LK_TEST_ID};
my $info = $ENV{LK_TEST_INFO};
my $name = $ENV{LK_TEST_NODE};

sub have { return -x "$root/bin/$_[0]"; }

# The entry: @INC, the root, the tunables (only those not set, never a reserved key).
is($LK::LKROOT, $root, '$LK::LKROOT is $ENV{LKROOT}');
ok((grep { $_ eq "$root/lib/perl" } @INC), 'LK.pm directory on @INC');
ok((grep { $_ eq "$root/lkadm/subsys/gen/app/lib" } @INC), 'gen/app lib directory on @INC');
is($ENV{KT_TUNABLE}, 'from the file', 'a tunable in %ENV') if $ENV{LK_TEST_TUNABLES};
is($ENV{KT_QUOTED}, 'a b $c', 'a quoted tunable, no expansion') if $ENV{LK_TEST_TUNABLES};
is($ENV{KT_PRESET}, 'preset', 'a set variable is not overridden') if $ENV{LK_TEST_TUNABLES};
isnt($ENV{PATH}, '/nowhere', 'PATH is never a tunable') if $ENV{LK_TEST_TUNABLES};

# Constants.
is($LK::UNKNOWN, 0, 'UNKNOWN');
is($LK::ALIVE,   1, 'ALIVE');
is($LK::DEAD,    2, 'DEAD');
is(LK::ALIVE,    1, 'ALIVE as a constant');
is_deeply([$LK::ISP, $LK::ISU, $LK::OSU, $LK::OSF], [qw(ISP ISU OSU OSF)], 'states');

# ins_list: records of "\001"-separated fields, list and scalar context.
{
    my @all = LK::ins_list('', '', '', '', '', '');
    is($?, 0, 'ins_list exit status 0');
    is(scalar(@all), 1, 'one record');
    my @f = split(/\x01/, $all[0], -1);
    is(scalar(@f), 17, 'seventeen fields');
    is($f[3], $tag,  'field 3 is the tag');
    is($f[4], $id,   'field 4 is the id');
    is($f[5], $info, 'field 5 is the info');
    like($f[6], qr/\A(?:ISP|ISU|OSU|OSF)\z/, 'field 6 is a state');
    my $one = LK::ins_list('', '', '', '', $tag, '');
    is($one, $all[0], 'scalar context: the first record');
    SKIP: {
        skip 'ins_list has no -i yet', 1 unless `$root/bin/ins_list --help 2>&1` =~ /^\s*-i\b/m;
        my @by_id = LK::ins_list('', '', '', '', '', $id);
        is(scalar(@by_id), 1, 'by id');
    }
    my $none = LK::ins_list('', '', '', '', 'no-such-tag', '');
    ok(!defined $none, 'scalar context, no record: undef');
    my @args_untouched = LK::ins_list('', '', '', '', "a b;rm -rf /", '');
    is(scalar(@args_untouched), 0, 'an argument with shell words is only an argument');
}

SKIP: {
    skip 'lcduname not installed', 3 unless have('lcduname');
    is(LK::lcduname(), $name, 'lcduname');
    is($?, 0, 'lcduname exit status');
    # The commands ask the lkd of $LK::LKROOT, the root they are run from.
    local $ENV{LKROOT} = '/nonexistent';
    is(LK::lcduname(), $name, 'lcduname: the lkd of $LK::LKROOT');
}

SKIP: {
    skip 'sys_getstate not installed', 1 unless have('sys_getstate');
    is(LK::sys_getstate('', $name), $LK::ALIVE, 'this node is ALIVE');
}

SKIP: {
    skip 'ins_gettag not installed', 1 unless have('ins_gettag');
    is(LK::ins_gettag('', $id), $tag, 'ins_gettag');
}

SKIP: {
    skip 'ins_setinfo not installed', 4 unless have('ins_setinfo');
    LK::ins_setinfo('', $tag, 'new info');
    is($?, 0, 'ins_setinfo exit status');
    my @f = split(/\x01/, scalar(LK::ins_list('', '', '', '', $tag, '')), -1);
    is($f[5], 'new info', 'ins_setinfo changed the info');
    # ins_list prints a backslash as \134: LK.pm gives the script the text as it was set.
    LK::ins_setinfo('', $tag, 'C:\\data \\001 a,b');
    @f = split(/\x01/, scalar(LK::ins_list('', '', '', '', $tag, '')), -1);
    is(scalar(@f), 17, 'an info with backslashes: still seventeen fields');
    is($f[5], 'C:\\data \\001 a,b', 'ins_list through LK.pm: escapes undone');
    LK::ins_setinfo('', $tag, $info);
}

SKIP: {
    skip 'eqv_list not installed', 1 unless have('eqv_list');
    my @e = LK::eqv_list('', $name, $tag);
    is(scalar(@e), 0, 'eqv_list: no other node on a one-node cluster');
}

SKIP: {
    skip 'lcdstatus not installed', 1 unless have('lcdstatus');
    like(LK::lcdstatus('-q'), qr/\Q$tag\E/, 'lcdstatus names the resource');
}

# A command that is not installed: $? says so, nothing dies.
{
    my $out = LK::_run('no_such_command_here');
    is($out, '', 'a missing command: no output');
    is($? >> 8, 127, 'a missing command: exit status 127');
}

done_testing();
