/* Human-readable output shared by the commands (kept apart from the protocol code). */
#include "output.h"

#include <stdio.h>
#include <string.h>

void lk_print_progress(const char *text, const json_t *msg, void *userdata)
{
    (void) msg;
    (void) userdata;
    if (text) {
        printf("%s\n", text);
        fflush(stdout);
    }
}
