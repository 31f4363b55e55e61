#!/bin/sh
# OpenKeeper gen/app template: GENERIC ROOT. Does nothing, succeeds, whatever
# the action: install it as both restore and remove.
#
# A "generic root" is a gen/app resource that protects nothing. Its only job
# is to be the parent of several roots that would otherwise be separate
# hierarchies, so that they always move together: OpenKeeper switches over
# and fails over a whole connected hierarchy, and the generic root connects
# them into one.
#
#     lkcli resource create gen --tag allapps --restore root.sh --remove root.sh
#     lkcli dependency create --parent allapps --child db
#     lkcli dependency create --parent allapps --child web
#     lkcli resource restore --tag allapps --node n2    # moves db, web and all below
#
# Restoring the generic root restores everything below it first (children
# before parents, independent branches in parallel), then the root itself,
# which has nothing to do. Removing it (with --hierarchy) removes it first,
# then everything below, parents before children.
#
# It is also SIOS's own fix for a known LifeKeeper problem: when two roots
# share a child (say two applications on one file system or one IP address),
# removal can happen in the wrong order during a cascading or resource
# failover. The fix is a common root whose restore and remove always succeed,
# with all the current roots made its children: then there is a single top,
# and removal runs in one pass, parents before children, the shared child
# last. OpenKeeper keeps the pattern so that such configurations carry over.
#
# There is nothing to check, so a generic root needs no quickchk, deepchk or
# recover, and no helper library. Exit 0 (LK_ACTION is restore or remove):
# it is in service as soon as its children are, and out of service at once.
exit 0
