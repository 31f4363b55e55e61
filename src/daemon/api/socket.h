/* The Unix socket transport of the request layer: $LKROOT/run/lkd.sock, one request line
 * per connection, newline-delimited JSON replies, the caller's role from SO_PEERCRED.
 *
 * Owner: lk_api_start (api.c) starts it and lk_api_stop / lk_api_free end it. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

struct lk_api;
struct lk_node;
struct lk_socket;

/* Listens on node's root/run/lkd.sock (mode 0660; group lkguest when that group exists)
 * on node's loop, making a request of api for every connection, within node's descriptor
 * budget (node->fdbudget, none when NULL). Returns 0 and sets *ret_socket, or a negative
 * errno with a message in err. */
int lk_socket_start(struct lk_api *api, struct lk_node *node, struct lk_socket **ret_socket,
                    char *err, size_t err_size);

/* The clients as status shows them: {"connections", "admin", "buffered_bytes", "refused":
 * {kind: count since start}, "fds": {"limit", "reserve", "in_use", "clients"} or null}.
 * NULL for ENOMEM. */
json_t *lk_socket_status_json(const struct lk_socket *sock);

/* Closes the listener and every connection (NULL-safe). */
void lk_socket_stop(struct lk_socket *sock);

/* Frees the transport after lk_socket_stop and after the loop ran the close callbacks. */
void lk_socket_free(struct lk_socket *sock);
