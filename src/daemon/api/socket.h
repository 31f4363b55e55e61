/* The Unix socket transport of the request layer: $LKROOT/run/lkd.sock, one request line
 * per connection, newline-delimited JSON replies, the caller's role from SO_PEERCRED.
 *
 * Owner: lk_api_start (api.c) starts it and lk_api_stop / lk_api_free end it. */
#pragma once

#include <stddef.h>
#include <uv.h>

struct lk_api;
struct lk_socket;

/* Listens on root/run/lkd.sock (mode 0660; group lkguest when that group exists) on loop,
 * making a request of api for every connection. Returns 0 and sets *ret_socket, or a
 * negative errno with a message in err. */
int lk_socket_start(struct lk_api *api, uv_loop_t *loop, const char *root,
                    struct lk_socket **ret_socket, char *err, size_t err_size);

/* Closes the listener and every connection (NULL-safe). */
void lk_socket_stop(struct lk_socket *sock);

/* Frees the transport after lk_socket_stop and after the loop ran the close callbacks. */
void lk_socket_free(struct lk_socket *sock);
