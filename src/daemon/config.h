/* The node configuration file $LKROOT/etc/lk.conf (INI, read with inih). For now it
 * holds the node's name and its listen address; cluster settings join it with #5. */
#pragma once

#include <stddef.h>

#include "validate.h"

#define LK_CONF_NAME    "etc/lk.conf"
#define LK_AUTHKEY_NAME "etc/authkey"

struct lk_config {
    char node[LK_TAG_MAX + 1];
    char listen[128];
};

/* Reads and validates path. Returns 0 or a negative errno with a one-line message in err
 * (the file name, the line, what is wrong). */
int lk_config_load(const char *path, struct lk_config *config, char *err, size_t err_size);
