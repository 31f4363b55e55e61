/* Human-readable output shared by the commands. */
#pragma once

#include <jansson.h>

/* A progress callback for lk_client_call that prints each line as it arrives. */
void lk_print_progress(const char *text, const json_t *msg, void *userdata);
