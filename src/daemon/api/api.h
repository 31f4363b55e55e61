/* The command api: the versioned JSON protocol of src/lib/proto.h, carried by its
 * transports (socket.c: $LKROOT/run/lkd.sock, roles from SO_PEERCRED) to the request
 * layer (request.c), and the handlers that turn requests into engine events (through the
 * executor) and replies. It changes no state except through the executor, and no
 * definition (create, delete, config, scripts) except through define.c.
 *
 * Owner: main.c creates it with lk_api_start and frees it with lk_api_stop. */
#pragma once

#include "bus.h"
#include "node.h"
#include "store.h"

struct lk_api;
struct lk_cluster;

/* Starts the transports: listens on $LKROOT/run/lkd.sock (mode 0660; group lkguest when
 * that group exists). Returns 0 and sets *ret_api (it talks to cluster, main.c's), or a negative
 * errno with a message in err. */
int lk_api_start(struct lk_node *node, struct lk_cluster *cluster, struct lk_api **ret_api,
                 char *err, size_t err_size);

/* Closes the transports: their listeners and every connection. */
void lk_api_stop(struct lk_api *api);

/* Bus subscribers (userdata: the struct lk_api), wired by main.c: what happened, so that
 * waiting commands get their progress lines and final replies (lk_bus_event_cb,
 * lk_bus_changed_cb), and the daemon stops now, so that lkstop gets its answer
 * (lk_bus_stopping_cb). None of them stops anything. */
void lk_api_on_event(void *userdata, const struct lk_event_record *event);
void lk_api_on_change(void *userdata, const char *tag);
void lk_api_on_stopping(void *userdata, enum lk_bus_stop why);

/* Frees the api after lk_api_stop and after the loop has run the close callbacks. */
void lk_api_free(struct lk_api *api);
