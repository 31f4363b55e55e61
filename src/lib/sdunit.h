/* The systemd type's shared contract (docs/SYSTEMD.md), for lkd (io/type_systemd.c, its
 * definition check and classify; core/sdunits.c) and the lk_systemd helper
 * (src/systemd/lk_systemd.c): which unit names a resource may have, and lk_systemd's exit
 * statuses and environment, in one table for both sides. Pure: no I/O. The helper's last
 * output line is the reason ("lk_systemd: ..."). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define LK_UNIT_NAME_MAX 255

/* Whether name is a unit that can be started: "name.service", "x@instance.service"... of a
 * known unit type, at most LK_UNIT_NAME_MAX bytes of [A-Za-z0-9:_.@\-], no template
 * ("x@.service"). On false, err (if err_size) holds a one-line reason. */
bool lk_unit_name_valid(const char *name, char *err, size_t err_size);

/* Whether name is a service unit (the drop-in's Restart=no applies only to those). */
bool lk_unit_is_service(const char *name);

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
