/* Human-readable output shared by the commands. */
#pragma once

#include <jansson.h>

/* A progress callback for lk_client_call that prints each line as it arrives. */
void lk_print_progress(const char *text, const json_t *msg, void *userdata);

#define LK_EVENT_NODE   1u /* print the node's name */
#define LK_EVENT_DETAIL 2u /* print the detail (output tail) under the event */

/* Prints one event of the protocol ("time_ms", "node", "severity", "number", "tag",
 * "process", "message", "detail") as one line after indent, as `lkcli log` shows it. */
void lk_print_event(const json_t *event, const char *indent, unsigned flags);
