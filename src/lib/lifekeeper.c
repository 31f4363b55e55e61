/* The tables of LifeKeeper's names (lifekeeper.h): which commands, which Perl files, which
 * directories. lkd's installation (io/lkinstall.c), the scripts' environment (io/scripts.c)
 * and `lkcli lifekeeper-setup` read them, so the three never disagree. It must never do
 * I/O nor name a command that is not built from this tree (a missing one is only skipped). */
#include "lifekeeper.h"

#include <stdio.h>

const char *const lk_lifekeeper_commands[] = {
        "lk_err",    "ins_list",   "ins_setstate", "ins_setinfo", "ins_gettag", "ins_setchkint",
        "ins_setas", "lcduname",   "lcdstatus",    "eqv_list",    "dep_list",   "sys_getstate",
        "sendevent", "lcdremexec", "lcdrcp",       NULL,
};

const struct lk_lifekeeper_file lk_lifekeeper_perl_files[] = {
        {"LK.pm", "lib/perl/LK.pm"},
        {"LifeKeeper.pl", "etc/default/LifeKeeper.pl"},
        {NULL, NULL},
};

const char *const lk_lifekeeper_dirs[] = {
        "lib",
        "lib/perl",
        "etc",
        "etc/default",
        "lkadm",
        "lkadm/subsys",
        "lkadm/subsys/gen",
        "lkadm/subsys/gen/app",
        "lkadm/subsys/gen/app/lib",
        NULL,
};

char *lk_lifekeeper_perl5lib(const char *root, char *buf, size_t size)
{
    snprintf(buf, size, "%s/lib/perl:%s/lkadm/subsys/gen/app/lib", root, root);
    return buf;
}
