/* Unit names (sdunit.h): the one check of a systemd unit's name, for lkd's definition
 * check and lk_systemd's arguments. It owns no state, does no I/O and never decides
 * anything about the unit itself (whether it exists is the manager's to say). */
#include "sdunit.h"

#include <stdio.h>
#include <string.h>

static const char *const startable[] = {".service", ".socket", ".target", ".mount",
                                        ".timer",   ".path",   ".swap",   ".automount"};

static bool fail(char *err, size_t err_size, const char *what, const char *name)
{
    if (err && err_size) {
        snprintf(err, err_size, "unit name '%.64s%s' %s", name, strlen(name) > 64 ? "..." : "",
                 what);
    }
    return false;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len > n && memcmp(s + len - n, suffix, n) == 0;
}

bool lk_unit_name_valid(const char *name, char *err, size_t err_size)
{
    if (!name || !*name) {
        if (err && err_size) {
            snprintf(err, err_size, "the unit name is empty");
        }
        return false;
    }
    size_t len = strlen(name);
    if (len > LK_UNIT_NAME_MAX) {
        return fail(err, err_size, "is longer than 255 bytes", name);
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '_' || c == '.' || c == '@' || c == '-' || c == '\\';
        if (!ok) {
            return fail(err, err_size, "has a character a unit name cannot have", name);
        }
    }
    if (name[0] == '.' || name[0] == '@' || name[0] == '-') {
        return fail(err, err_size, "must start with a letter, digit, ':', '_' or '\\'", name);
    }
    const char *type = NULL;
    for (size_t i = 0; i < sizeof(startable) / sizeof(startable[0]); i++) {
        if (ends_with(name, len, startable[i])) {
            type = startable[i];
        }
    }
    if (!type) {
        return fail(err, err_size,
                    "has no unit type (.service, .socket, .target, .mount, .timer, .path, .swap "
                    "or .automount)",
                    name);
    }
    size_t stem = len - strlen(type);
    const char *at = memchr(name, '@', stem);
    if (at) {
        if (at == name + stem - 1) {
            return fail(err, err_size, "is a template: name an instance (x@instance.service)",
                        name);
        }
        if (memchr(at + 1, '@', (size_t) (name + stem - at - 1))) {
            return fail(err, err_size, "has more than one '@'", name);
        }
    }
    return true;
}

bool lk_unit_is_service(const char *name)
{
    return name && ends_with(name, strlen(name), ".service");
}
