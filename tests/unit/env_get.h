/* For the unit tests that look into an environment a run would get (test_ocf.c,
 * test_type_ocf.c, test_restype.c, test_type_systemd.c): the value of one variable. */
#pragma once

#include <stddef.h>
#include <string.h>

/* The value of name in env (NAME=VALUE strings, NULL-terminated; env may be NULL), or NULL
 * when it is not there. */
static inline const char *lk_test_env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++) {
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=') {
            return env[i] + n + 1;
        }
    }
    return NULL;
}
