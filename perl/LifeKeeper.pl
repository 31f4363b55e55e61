# The Perl entry of LifeKeeper's gen/app scripts (`BEGIN { require '/etc/default/LifeKeeper.pl'; }`),
# as OpenKeeper provides it; lkd installs it as $LKROOT/etc/default/LifeKeeper.pl and
# `lkcli lifekeeper-setup` links /etc/default/LifeKeeper.pl to it.
#
# It owns the scripts' start: $ENV{LKROOT} when unset (the root this file was installed
# under, else OpenKeeper's default /opt/openkeeper), the tunables of
# $LKROOT/etc/default/LifeKeeper in %ENV, and @INC ($LKROOT/lib/perl for LK.pm,
# $LKROOT/lkadm/subsys/gen/app/lib for the gen/app libraries). It must never override a
# variable already set (lkd's environment wins), never set LKROOT, PATH, LANG, PERL5LIB or
# LK_* from the tunables, never expand `$x` in a value, and never die: a script that
# requires it goes on without the tunables if the file cannot be read.
use strict;
use warnings;

{
    my $default_root = '/opt/openkeeper';
    if (!defined $ENV{LKROOT} || $ENV{LKROOT} eq '') {
        my $root = $default_root;
        my $self = $INC{'/etc/default/LifeKeeper.pl'} // __FILE__;
        my $real = eval { require Cwd; Cwd::abs_path($self) };
        if (defined $real && $real =~ m{^(/.+)/etc/default/LifeKeeper\.pl\z} && -d "$1/lib/perl") {
            $root = $1;
        }
        $ENV{LKROOT} = $root;
    }
    my $root = $ENV{LKROOT};

    # A value as a shell reads it, and as lkd does (src/lib/tunables.c): bare, '...' and
    # "..." parts up to unquoted white space, a backslash escaping the next character (in
    # double quotes only " \ $ `), then nothing or a # comment; no `$x` expansion. undef
    # for what lkd refuses (a space or one of ;&|<>()` unquoted, an unterminated quote).
    my $value_of = sub {
        my ($s) = @_;
        my $v = '';
        while (length $s && $s !~ /\A[ \t]/) {
            if ($s =~ s/\A'([^']*)'//) {
                $v .= $1;
            } elsif ($s =~ s/\A"((?:[^"\\]|\\.)*)"//s) {
                my $d = $1;
                (my $bare = $d) =~ s/\\.//gs;
                return undef if $bare =~ /`/;
                $d =~ s/\\([\\"\$`])/$1/g;
                $v .= $d;
            } elsif ($s =~ s/\A\\(.)//s) {
                $v .= $1;
            } elsif ($s =~ /\A[;&|<>()`'"\\]/) {
                return undef;
            } else {
                $s =~ s/\A(.)//s;
                $v .= $1;
            }
        }
        $s =~ s/\A[ \t]+//;
        return length $s && $s !~ /\A#/ ? undef : $v;
    };

    # LifeKeeper's tunables file: KEY=VALUE lines, `export ` allowed; the same keys lkd
    # keeps out of a script's environment.
    my $reserved = qr/\A(?:LKROOT|PATH|LANG|PERL5LIB|LK_\w*)\z/;
    if (open(my $fh, '<', "$root/etc/default/LifeKeeper")) {
        while (my $line = <$fh>) {
            $line =~ s/\r?\n\z//;
            next if $line =~ /\A\s*(?:#|\z)/;
            next unless $line =~ /\A\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)\z/;
            my ($key, $value) = ($1, $value_of->($2));
            next if !defined $value || $key =~ $reserved || exists $ENV{$key};
            $ENV{$key} = $value;
        }
        close($fh);
    }

    for my $dir ("$root/lkadm/subsys/gen/app/lib", "$root/lib/perl") {
        unshift @INC, $dir unless grep { defined $_ && !ref $_ && $_ eq $dir } @INC;
    }
}

1;
