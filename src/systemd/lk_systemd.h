/* lk_systemd's exit statuses: what the helper (lk_systemd.c) says and what lkd's systemd
 * type (io/type_systemd.c) classifies. One table for both sides; docs/SYSTEMD.md has it
 * in prose. The last line of the helper's output is the reason ("lk_systemd: ..."). */
#pragma once

#include "unitname.h"

#define LK_SYSTEMD_PROGRAM "lk_systemd"

enum lk_systemd_exit {
    LK_SD_EXIT_OK = 0,          /* done; status: active (or reloading) */
    LK_SD_EXIT_FAILED = 1,      /* the job failed, or status: failed */
    LK_SD_EXIT_USAGE = 2,       /* bad arguments or unit name: nothing was asked */
    LK_SD_EXIT_NOT_FOUND = 5,   /* the unit is not there on this node (not found, masked,
                                 * its file does not load) */
    LK_SD_EXIT_INACTIVE = 7,    /* status: inactive (dead) */
    LK_SD_EXIT_NO_MANAGER = 69, /* no systemd manager to talk to (PID 1 is not systemd and
                                 * no LK_SYSTEMD_BUS, or it refuses the connection) */
    LK_SD_EXIT_PENDING = 75,    /* the manager is reloading, re-executing, shutting down or
                                 * did not answer in time: neither success nor failure */
};

/* The environment lkd gives it. */
#define LK_SYSTEMD_ENV_BUS     "LK_SYSTEMD_BUS"        /* a D-Bus address of the manager */
#define LK_SYSTEMD_ENV_TIMEOUT "LK_SYSTEMD_TIMEOUT_MS" /* the action's budget */
#define LK_SYSTEMD_ENV_WATCH   "LK_SYSTEMD_WATCH"      /* "1": leave a watcher after start */
