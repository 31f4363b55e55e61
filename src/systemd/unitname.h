/* systemd unit names as the systemd resource type accepts them (docs/SYSTEMD.md): shared
 * by lkd (io/type_systemd.c, the definition's check) and lk_systemd (its arguments), so
 * both refuse the same names with the same words. Pure: no I/O. */
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
