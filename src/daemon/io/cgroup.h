/* Containment (issue 10): one cgroup v2 directory per resource under this node's own
 * OpenKeeper subtree, so that every process a resource's scripts start (daemons that fork
 * and call setsid included) can be counted, watched and killed.
 *
 * The subtree: the cgroup v2 mount is found in /proc/self/mountinfo wherever it is
 * (/sys/fs/cgroup on a unified system, /sys/fs/cgroup/unified on a hybrid one); lkd's own
 * cgroup is read from /proc/self/cgroup ("0::/path"). The base is
 * <mount><own>/openkeeper/<node>-<8 hex digits of a hash of the root directory> (several
 * nodes of one machine, each with its own --root, never share one); under systemd with
 * Delegate=yes <own> is the unit's cgroup, so the subtree is the delegated one. A resource's
 * cgroup is <base>/<tag>.res. Memory figures come from memory.current when the memory
 * controller can be enabled in the subtree; cpu.stat and cgroup.events exist without any
 * controller.
 *
 * Owns the cgroup directories it creates and their descriptors. Never signals a process
 * outside a resource's cgroup, never moves a process it did not start, never decides. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct lk_cgroups;
struct lk_cgroup_watch;

/* Usage of one resource's cgroup. */
struct lk_cgroup_stats {
    uint32_t procs;       /* processes in it (cgroup.procs lines) */
    uint64_t cpu_usec;    /* cpu.stat usage_usec */
    int64_t memory_bytes; /* memory.current, -1 where the memory controller is not enabled */
};

/* Sets up containment for the node. setting is "auto" (find the v2 mount and lkd's own
 * cgroup as above), "off", or an absolute path of an existing cgroup v2 directory to use
 * as the parent of openkeeper/ (tests and unusual layouts). Creates the base (mode 0755).
 * Returns 0 with *ret set when containment is on; 0 with *ret NULL and a one-line reason
 * in why when it is off ("off in lk.conf", "no cgroup v2 mount", "cannot create
 * /sys/fs/cgroup/unified/openkeeper/node1-1a2b3c4d: Permission denied", "kernel has no
 * cgroup.kill (Linux 5.14 or later needed)", "kernel cannot spawn into a cgroup (clone3:
 * ...)": clone3 with CLONE_INTO_CGROUP is probed, Linux 5.7, or a seccomp filter denies it);
 * a negative errno only for -ENOMEM. An absolute setting must lie under a cgroup v2 mount.
 * The memory controller is enabled in openkeeper/ and the base when the parent offers it. */
int lk_cgroups_open(const char *root, const char *node_name, const char *setting,
                    struct lk_cgroups **ret, char *why, size_t why_size);

/* Removes the empty resource cgroups and the node's empty base directory, closes and frees.
 * Cgroups with processes (applications left running by lkstop -f) stay. NULL-safe. */
void lk_cgroups_close(struct lk_cgroups *cg);

/* The base directory (absolute path). */
const char *lk_cgroups_base(const struct lk_cgroups *cg);

/* Whether memory.current is available in resource cgroups. */
bool lk_cgroups_has_memory(const struct lk_cgroups *cg);

/* The path of tag's cgroup into buf (whether it exists or not). Returns buf. */
char *lk_cgroups_path(const struct lk_cgroups *cg, const char *tag, char *buf, size_t size);

/* A directory descriptor of tag's cgroup, for the runner's CLONE_INTO_CGROUP; creates the
 * cgroup when missing. The descriptor stays owned by cg (cached; valid until
 * lk_cgroups_forget or lk_cgroups_close). Returns the fd or a negative errno. */
int lk_cgroups_fd(struct lk_cgroups *cg, const char *tag);

/* Whether tag's cgroup has a process in it (cgroup.events "populated 1"). False when the
 * cgroup does not exist. */
bool lk_cgroups_populated(const struct lk_cgroups *cg, const char *tag);

/* Usage of tag's cgroup. Returns 0, or -ENOENT when it does not exist. */
int lk_cgroups_stats(const struct lk_cgroups *cg, const char *tag, struct lk_cgroup_stats *ret);

/* The processes in tag's cgroup, described for a log line: "1234 (sleep 100), 1240
 * (/usr/sbin/mydaemon -f)", at most size bytes (cut with "..."), "" when empty. Returns the
 * number of processes. */
int lk_cgroups_describe(const struct lk_cgroups *cg, const char *tag, char *buf, size_t size);

/* tag's resource was deleted: stops caring about its cgroup, and removes it if empty. */
void lk_cgroups_forget(struct lk_cgroups *cg, const char *tag);

/* Kills everything in tag's cgroup, on the loop: SIGTERM and SIGCONT to every process in
 * it (read again until no new process appears, so that a process forking meanwhile is
 * caught), then after grace_usec (0 = at once) SIGKILL through cgroup.kill. cb is called
 * once from the loop: with empty = true as soon as the cgroup is empty (at once if it is
 * empty already), or empty = false when it is still populated 5 s after the SIGKILL (a
 * process in uninterruptible sleep). before is the lk_cgroups_describe text taken before
 * the first signal, "" when there was nothing to kill. Returns 0, or a negative errno
 * (then cb is never called). Emptiness is seen through inotify on cgroup.events and a
 * 50 ms poll. The kill cannot be cancelled; cg must outlive it. Signals go only to
 * processes still in the cgroup when signalled (pinned by a pidfd), never to pid 1 or lkd. */
typedef void (*lk_cgroup_killed_cb)(void *userdata, const char *tag, bool empty,
                                    const char *before);
int lk_cgroups_kill(struct lk_cgroups *cg, uv_loop_t *loop, const char *tag, uint64_t grace_usec,
                    lk_cgroup_killed_cb cb, void *userdata);

/* Watches tag's cgroup.events (inotify through the loop, which kernfs feeds on every
 * change; a timer reads it too, every second, or every 50 ms where inotify cannot be had):
 * cb is called from the loop each time "populated" changes, with its new value; a cgroup
 * removed under the watch reads as empty. The cgroup is created when missing. Returns 0
 * and sets *ret, or a negative errno (-EINVAL for an invalid tag). */
typedef void (*lk_cgroup_event_cb)(void *userdata, const char *tag, bool populated);
int lk_cgroups_watch(struct lk_cgroups *cg, uv_loop_t *loop, const char *tag, lk_cgroup_event_cb cb,
                     void *userdata, struct lk_cgroup_watch **ret);

/* Stops a watch; cb is not called any more. Freed from the loop. NULL-safe. */
void lk_cgroup_watch_stop(struct lk_cgroup_watch *w);
