/* The message catalog: the one table of event numbers, severities and formats. Adding a
 * message means adding a row here and an enum value in catalog.h; changing the meaning
 * of a released number is forbidden. Formats take only %s, %d and %llu arguments as
 * listed in the comment of each row. */
#include "catalog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

static const struct lk_catalog_entry catalog[] = {
        /* node name, pid */
        {LK_MSG_DAEMON_STARTED, LK_SEV_INFO, "daemon-started", "lkd started on node %s (pid %d)"},
        /* what the stop does */
        {LK_MSG_DAEMON_STOPPING, LK_SEV_INFO, "daemon-stopping", "lkd stopping: %s"},
        {LK_MSG_DAEMON_STOPPED, LK_SEV_INFO, "daemon-stopped", "lkd stopped"},
        /* action name */
        {LK_MSG_ACTION_INTERRUPTED, LK_SEV_WARNING, "action-interrupted",
         "%s was interrupted by a daemon stop or crash; finishing it safely"},
        /* what failed */
        {LK_MSG_STORE_FAILED, LK_SEV_ERROR, "store-failed", "cannot write the node database: %s"},
        /* why */
        {LK_MSG_STORE_NOT_WRITABLE, LK_SEV_ERROR, "store-not-writable",
         "the node database is not writable: %s; checks, recovery and failover go on from "
         "memory, changes that need the database are refused"},
        /* seconds it was not writable */
        {LK_MSG_STORE_WRITABLE, LK_SEV_INFO, "store-writable",
         "the node database is writable again after %llu s; what memory held is written"},
        /* path, size in MiB */
        {LK_MSG_STORE_RESERVE_USED, LK_SEV_WARNING, "store-reserve-used",
         "the disk is full: the reserve %s (%llu MiB) was freed for the state table and the "
         "event log"},
        /* path, why */
        {LK_MSG_STORE_NO_RESERVE, LK_SEV_WARNING, "store-no-reserve",
         "cannot keep the disk reserve %s: %s"},
        /* The command socket's limits (api/socket.c), at most one event per kind every 10 s:
         * how many times, over how many seconds, the uid of the last client. */
        {LK_MSG_CLIENTS_BUSY, LK_SEV_WARNING, "clients-busy",
         "local clients refused: too many connections (%llu in %d s, last uid %u)"},
        {LK_MSG_CLIENTS_FDS, LK_SEV_WARNING, "clients-fds",
         "local clients refused: file descriptors kept in reserve (%llu in %d s, last uid %u)"},
        {LK_MSG_CLIENTS_SHED, LK_SEV_WARNING, "clients-shed",
         "idle local clients closed to make room (%llu in %d s, last uid %u)"},
        {LK_MSG_CLIENTS_RATE, LK_SEV_WARNING, "clients-rate",
         "local clients refused: too many requests a second (%llu in %d s, last uid %u)"},
        {LK_MSG_CLIENTS_TOO_LARGE, LK_SEV_WARNING, "clients-too-large",
         "local requests refused: too large (%llu in %d s, last uid %u)"},
        {LK_MSG_CLIENTS_TIMEOUT, LK_SEV_WARNING, "clients-timeout",
         "local clients closed: no whole request in time (%llu in %d s, last uid %u)"},
        {LK_MSG_CLIENTS_BUFFERED, LK_SEV_WARNING, "clients-buffered",
         "local clients closed: too many request bytes buffered (%llu in %d s, last uid %u)"},
        /* id */
        {LK_MSG_RESOURCE_CREATED, LK_SEV_INFO, "resource-created", "resource created (id %s)"},
        {LK_MSG_RESOURCE_DELETED, LK_SEV_INFO, "resource-deleted", "resource deleted"},
        /* list of settings */
        {LK_MSG_RESOURCE_CONFIGURED, LK_SEV_INFO, "resource-configured", "settings changed: %s"},
        /* action name */
        {LK_MSG_SCRIPT_UPDATED, LK_SEV_INFO, "script-updated", "%s script replaced"},
        /* parent, child */
        {LK_MSG_DEPENDENCY_CREATED, LK_SEV_INFO, "dependency-created",
         "dependency created: '%s' depends on '%s'"},
        /* parent, child */
        {LK_MSG_DEPENDENCY_DELETED, LK_SEV_INFO, "dependency-deleted",
         "dependency deleted: '%s' no longer depends on '%s'"},
        {LK_MSG_RESTORE_STARTED, LK_SEV_INFO, "restore-started", "restore started"},
        /* duration in ms */
        {LK_MSG_RESTORE_OK, LK_SEV_INFO, "restore-ok", "restore action has succeeded (%llu ms)"},
        /* result description */
        {LK_MSG_RESTORE_FAILED, LK_SEV_ERROR, "restore-failed", "restore action failed: %s"},
        {LK_MSG_REMOVE_STARTED, LK_SEV_INFO, "remove-started", "remove started"},
        /* duration in ms */
        {LK_MSG_REMOVE_OK, LK_SEV_INFO, "remove-ok", "remove action has succeeded (%llu ms)"},
        /* result description */
        {LK_MSG_REMOVE_FAILED, LK_SEV_ERROR, "remove-failed", "remove action failed: %s"},
        /* check name */
        {LK_MSG_PROBE_OK, LK_SEV_INFO, "probe-ok",
         "%s at start-up succeeded: the application runs, restore not needed"},
        /* check name, result description */
        {LK_MSG_PROBE_FAILED, LK_SEV_WARNING, "probe-failed", "%s at start-up failed: %s"},
        {LK_MSG_PROBE_IMPOSSIBLE, LK_SEV_WARNING, "probe-impossible",
         "no quickchk or deepchk script to probe with at start-up; running restore"},
        /* action name, reason */
        {LK_MSG_SCRIPT_REFUSED, LK_SEV_ERROR, "script-refused", "%s script refused: %s"},
        /* check name, result description, failures in a row, check-failures */
        {LK_MSG_CHECK_FAILED, LK_SEV_WARNING, "check-failed", "%s failed: %s (%u of %u in a row)"},
        /* cause */
        {LK_MSG_RECOVER_STARTED, LK_SEV_WARNING, "recover-started", "%s; running recover"},
        /* duration in ms */
        {LK_MSG_RECOVERED, LK_SEV_INFO, "recovered",
         "recovered in place by recover (%llu ms); restore not run"},
        /* result description */
        {LK_MSG_RECOVER_FAILED, LK_SEV_ERROR, "recover-failed", "recover failed: %s"},
        /* recoveries, window seconds */
        {LK_MSG_RECOVERY_LIMIT, LK_SEV_ERROR, "recovery-limit",
         "%u local recoveries within %s s: treated as unrecoverable here"},
        /* cause */
        {LK_MSG_RESOURCE_FAILED, LK_SEV_ERROR, "resource-failed",
         "resource failed (%s); no backup node to fail over to: OSF"},
        /* pid, pidfile */
        {LK_MSG_PROCESS_EXITED, LK_SEV_WARNING, "process-exited", "process %d (pidfile %s) exited"},
        {LK_MSG_MONITOR_SUSPENDED, LK_SEV_INFO, "monitor-suspended",
         "monitoring suspended: in service, unprotected (ISU)"},
        {LK_MSG_MONITOR_RESUMED, LK_SEV_INFO, "monitor-resumed",
         "monitoring resumed: in service, protected (ISP)"},
        {LK_MSG_COUNTERS_RESET, LK_SEV_INFO, "counters-reset",
         "check-failure and local-recovery counters cleared"},
        /* pidfile, why */
        {LK_MSG_PIDFILE_PROBLEM, LK_SEV_WARNING, "pidfile-problem",
         "cannot watch the process of pidfile %s: %s"},
        {LK_MSG_STOP_FAILED_CLEARED, LK_SEV_WARNING, "stop-failed-cleared",
         "an operator cleared 'remove failed: may still be running' (resource reset): the "
         "application is taken as stopped here"},
        /* cgroup path */
        {LK_MSG_CGROUP_EMPTY, LK_SEV_WARNING, "cgroup-empty",
         "every process of the resource exited (its cgroup %s is empty)"},
        /* the processes killed (pid and command line each) */
        {LK_MSG_LEFTOVERS_KILLED, LK_SEV_WARNING, "leftovers-killed",
         "remove left processes behind in the resource's cgroup; killed: %s"},
        /* the result, the processes killed */
        {LK_MSG_REMOVE_KILLED, LK_SEV_WARNING, "remove-killed",
         "remove failed (%s); everything in the resource's cgroup was killed instead: %s"},
        /* the processes left */
        {LK_MSG_KILL_FAILED, LK_SEV_ERROR, "kill-failed",
         "processes of the resource survived SIGKILL: %s"},
        /* action, pid, what happened to it */
        {LK_MSG_INTERRUPTED_RUN, LK_SEV_WARNING, "interrupted-run",
         "the %s run (pid %d) cut short by lkd's restart was still running: %s"},
        /* lkd's pid, check kind ("quick"/"deep"), the check's pid, seconds, tag: LifeKeeper's
         * text byte for byte (no period after the tag, "Check", the partner), so a log
         * monitor written for LifeKeeper matches it */
        {LK_MSG_CHECK_TIMEOUT, LK_SEV_WARNING, "check-timeout",
         "Process: lkd(%d) *WARNING* (No. 1517) System Failure Detected! %s Check process "
         "(PID=%d) did not return in %s seconds for resource %s Aborting check process. "
         "(Partner PID=0)"},
        /* node, why (names the fence script) */
        {LK_MSG_FENCE_REFUSED, LK_SEV_ERROR, "fence-refused",
         "fencing node %s refused: %s; not run, no takeover (retried)"},
        /* why (names the fence script) */
        {LK_MSG_FENCE_UNUSABLE, LK_SEV_WARNING, "fence-unusable",
         "the cluster's fence script cannot run on this node: %s; a fence from here will fail"},
        /* action, the result (status: reason) */
        {LK_MSG_DEGRADED, LK_SEV_WARNING, "degraded",
         "%s reports the resource degraded: %s; still in service, no recovery"},
        /* action, the result */
        {LK_MSG_NOT_INSTALLED, LK_SEV_ERROR, "not-installed",
         "%s: not installed on this node (%s); this node is marked unable to run the resource"},
        /* action, the result */
        {LK_MSG_NOT_CONFIGURED, LK_SEV_ERROR, "not-configured",
         "%s: the resource is not configured correctly (%s); no failover anywhere until "
         "resource reset"},
        /* action */
        {LK_MSG_STOPPED_AT_PROBE, LK_SEV_INFO, "stopped-at-probe",
         "%s at start-up: the application is cleanly stopped"},
        /* action, the result */
        {LK_MSG_HARD_ERROR, LK_SEV_ERROR, "hard-error",
         "%s failed hard (%s); no local retry or recovery"},
        /* what was cleared */
        {LK_MSG_UNABLE_CLEARED, LK_SEV_WARNING, "unable-cleared",
         "an operator cleared '%s' (resource reset)"},
        /* node, why */
        {LK_MSG_UNABLE_SKIPPED, LK_SEV_INFO, "unable-skipped",
         "node %s is unable to run the hierarchy (%s): skipped"},
        /* the type ("ocf heartbeat:IPaddr2"): its meta-data and validate-all passed */
        {LK_MSG_TYPE_ADMITTED, LK_SEV_INFO, "type-admitted",
         "%s admitted: its definition passed the type's checks"},
        /* the type, why (the agent's ocf-exit-reason, a missing parameter, ...) */
        {LK_MSG_TYPE_REFUSED, LK_SEV_WARNING, "type-refused", "%s refused: %s"},
        /* unit, lk_systemd's line */
        {LK_MSG_SYSTEMD_OWNED, LK_SEV_INFO, "systemd-owned",
         "systemd unit %s held by the cluster: %s"},
        /* unit, lk_systemd's line */
        {LK_MSG_SYSTEMD_RELEASED, LK_SEV_INFO, "systemd-released",
         "systemd unit %s given back to systemd: %s"},
        /* unit, result description */
        {LK_MSG_SYSTEMD_OWN_FAILED, LK_SEV_WARNING, "systemd-own-failed",
         "cannot hold systemd unit %s (drop-in, autostart): %s"},
        /* unit, result description */
        {LK_MSG_SYSTEMD_RELEASE_FAILED, LK_SEV_WARNING, "systemd-release-failed",
         "cannot give systemd unit %s back (drop-in, autostart): %s"},
        /* the parameters as lk_params_public_text shows them: never a secret value */
        {LK_MSG_PARAMS_CHANGED, LK_SEV_INFO, "params-changed", "parameters changed: %s"},
        /* helper file names */
        {LK_MSG_HELPER_UPDATED, LK_SEV_INFO, "helper-updated", "helper files replaced: %s"},
        /* peer, address */
        {LK_MSG_PATH_ALIVE, LK_SEV_INFO, "path-alive", "comm path to %s via %s is ALIVE"},
        /* peer, address, why */
        {LK_MSG_PATH_DEAD, LK_SEV_WARNING, "path-dead", "comm path to %s via %s is DEAD: %s"},
        /* node */
        {LK_MSG_NODE_ALIVE, LK_SEV_INFO, "node-alive", "node %s is ALIVE"},
        /* node, why */
        {LK_MSG_NODE_DEAD, LK_SEV_ERROR, "node-dead", "node %s is DEAD: %s"},
        /* peer or address, why */
        {LK_MSG_FRAME_DROPPED, LK_SEV_WARNING, "frame-dropped",
         "dropped a frame from %s: %s; connection closed"},
        /* node, what differs */
        {LK_MSG_SETTINGS_MISMATCH, LK_SEV_WARNING, "settings-mismatch",
         "node %s has different cluster settings: %s"},
        /* milliseconds */
        {LK_MSG_DAEMON_RESUMED, LK_SEV_WARNING, "daemon-resumed",
         "lkd did not run for %llu ms (frozen?): holding every action until the peers are heard"},
        /* node, address */
        {LK_MSG_UNKNOWN_PEER, LK_SEV_WARNING, "unknown-peer",
         "node %s connected but has no comm path here (%s); not counted as a member"},
        /* votes, needed */
        {LK_MSG_QUORUM_GAINED, LK_SEV_INFO, "quorum-gained", "quorum gained (%u of %u votes)"},
        /* votes, needed, what happens */
        {LK_MSG_QUORUM_LOST, LK_SEV_ERROR, "quorum-lost", "quorum lost (%u votes, %u needed): %s"},
        /* from node, to node, cause */
        {LK_MSG_FAILOVER, LK_SEV_WARNING, "failover", "hierarchy failing over from %s to %s: %s"},
        /* generation, from what */
        {LK_MSG_TAKEOVER, LK_SEV_INFO, "takeover",
         "taking the hierarchy over (generation %llu): %s"},
        /* cause (what failed where), the budget in words */
        {LK_MSG_FAILOVER_LIMIT, LK_SEV_ERROR, "failover-limit",
         "%s; %s: left out of service instead of bouncing between nodes"},
        /* node, generation, own generation */
        {LK_MSG_NEWER_GENERATION, LK_SEV_ERROR, "newer-generation",
         "node %s holds the hierarchy with generation %llu (ours %llu): removing it here"},
        /* cause */
        {LK_MSG_NO_TARGET, LK_SEV_ERROR, "no-target",
         "no live node can take the hierarchy (%s): left out of service"},
        /* from node, to node */
        {LK_MSG_SWITCHOVER, LK_SEV_INFO, "switchover", "switchover from %s to %s requested"},
        /* node */
        {LK_MSG_SWITCHBACK, LK_SEV_INFO, "switchback",
         "switchback automatic: returning the hierarchy to %s"},
        {LK_MSG_ORPHAN, LK_SEV_WARNING, "orphan",
         "hierarchy is in service nowhere: bringing it in service here"},
        /* generation, reason */
        {LK_MSG_CLUSTER_REMOVED, LK_SEV_ERROR, "cluster-removed",
         "the cluster left the hierarchy out of service (generation %llu: %s): removing it "
         "here"},
        /* cause */
        {LK_MSG_FAILING_OVER, LK_SEV_ERROR, "failing-over",
         "resource failed (%s): its hierarchy fails over to a backup node"},
        /* node, fence script */
        {LK_MSG_FENCE_STARTED, LK_SEV_WARNING, "fence-started", "fencing node %s with %s"},
        /* node */
        {LK_MSG_FENCE_OK, LK_SEV_INFO, "fence-ok", "node %s fenced"},
        /* node, result description */
        {LK_MSG_FENCE_FAILED, LK_SEV_ERROR, "fence-failed",
         "fencing node %s failed: %s; no takeover"},
        /* to node, why */
        {LK_MSG_SWITCH_REFUSED, LK_SEV_WARNING, "switchover-refused",
         "switchover to %s refused: %s"},
        /* node holding it, generation */
        {LK_MSG_RECORD_HANDED, LK_SEV_WARNING, "record-handed",
         "node %s holds the hierarchy in service and this node never ran it under its record: "
         "the record goes to %s (generation %llu); nothing moves"},
        /* node, version */
        {LK_MSG_DATA_RECEIVED, LK_SEV_INFO, "data-received", "definition received from %s (%s)"},
        /* node, objects received */
        {LK_MSG_DATA_SYNCED, LK_SEV_INFO, "data-synced",
         "cluster data up to date with %s (%u objects received)"},
        /* node, why */
        {LK_MSG_DATA_REJECTED, LK_SEV_ERROR, "data-rejected", "cluster data from %s rejected: %s"},
        /* node, priority */
        {LK_MSG_EXTENDED, LK_SEV_INFO, "extended", "extended to node %s with priority %u"},
        /* node */
        {LK_MSG_UNEXTENDED, LK_SEV_INFO, "unextended", "unextended from node %s"},
        /* list of settings */
        {LK_MSG_CLUSTER_CONFIGURED, LK_SEV_INFO, "cluster-configured",
         "cluster settings changed: %s"},
        /* node, address */
        {LK_MSG_COMMPATH_CREATED, LK_SEV_INFO, "commpath-created",
         "comm path to %s via %s created"},
        /* node, address */
        {LK_MSG_COMMPATH_DELETED, LK_SEV_INFO, "commpath-deleted",
         "comm path to %s via %s deleted"},
        /* "on (base)" or "off (why)" */
        {LK_MSG_CONTAINMENT, LK_SEV_INFO, "containment", "containment: %s"},
        /* why */
        {LK_MSG_GUARD_FENCED, LK_SEV_ERROR, "guard-fenced",
         "the guard fenced this node (%s): its protected applications were killed; lkd "
         "exits (start it again with lkstart)"},
        /* node, why, hierarchies */
        {LK_MSG_PEER_FENCED_ITSELF, LK_SEV_WARNING, "peer-fenced-itself",
         "node %s fenced itself (%s): down there: %s"},
        /* count (unsigned long long), detail */
        {LK_MSG_PORT_REFUSED, LK_SEV_WARNING, "comm-port-refused",
         "comm port: %llu connection(s) without a HELLO refused since the last report (%s)"},
        /* count (unsigned long long), detail */
        {LK_MSG_PORT_SHED, LK_SEV_WARNING, "comm-port-shed",
         "comm port: %llu connection(s) without a HELLO closed to make room since the last "
         "report (%s)"},
        /* count (unsigned long long), detail */
        {LK_MSG_PORT_TIMEOUT, LK_SEV_INFO, "comm-port-timeout",
         "comm port: %llu connection(s) closed without a HELLO in time since the last report "
         "(%s)"},
        /* node, protocol, version */
        {LK_MSG_PEER_PROTOCOL_OLD, LK_SEV_WARNING, "peer-protocol-old",
         "peer %s speaks protocol %d (version %s): traffic with it is not encrypted; upgrade it"},
        /* why (names both nodes' protocols and versions) */
        {LK_MSG_PROTOCOL_REFUSED, LK_SEV_ERROR, "protocol-refused", "%s"},
        /* node, protocol, version */
        {LK_MSG_PEER_PROTOCOL, LK_SEV_INFO, "peer-protocol",
         "peer %s speaks protocol %d (version %s): traffic with it is encrypted"},
        /* key id, what happens */
        {LK_MSG_KEY_ROTATION_STARTED, LK_SEV_INFO, "key-rotation-started",
         "cluster key rotation: next key %s held in etc/authkey.next (%s)"},
        /* key id, how */
        {LK_MSG_KEY_REPLACED, LK_SEV_INFO, "key-replaced",
         "cluster key replaced by key %s (%s): etc/authkey written"},
        /* why */
        {LK_MSG_KEY_ROTATION_FAILED, LK_SEV_ERROR, "key-rotation-failed",
         "cluster key rotation: %s"},
        /* node */
        {LK_MSG_KEY_NOT_GIVEN, LK_SEV_WARNING, "key-not-given",
         "node %s is DEAD and was not given the new cluster key: before it starts again, copy "
         "etc/authkey from a node that has the new key to it (mode 0600)"},
        /* Alert hooks (core/alerts.c, docs/ALERTS.md). Every message names the hook first,
         * in quotes: alerts.c finds it there and never delivers an alert's own event to the
         * hook it is about. */
        /* name, kind and target */
        {LK_MSG_ALERT_ADDED, LK_SEV_INFO, "alert-added", "alert hook '%s' added: %s"},
        /* name */
        {LK_MSG_ALERT_DELETED, LK_SEV_INFO, "alert-deleted", "alert hook '%s' deleted"},
        /* name, event seq, attempt, why, seconds to the next attempt, failures not logged */
        {LK_MSG_ALERT_FAILED, LK_SEV_WARNING, "alert-failed",
         "alert hook '%s' failed to deliver event %llu (attempt %d): %s; next attempt in %d s "
         "(%llu more failures since the last report)"},
        /* name, event seq, attempts, why */
        {LK_MSG_ALERT_GAVE_UP, LK_SEV_ERROR, "alert-gave-up",
         "alert hook '%s' gave up on event %llu after %d attempts: %s"},
        /* name, events dropped since the last report, queue bound */
        {LK_MSG_ALERT_DROPPED, LK_SEV_WARNING, "alert-dropped",
         "alert hook '%s' dropped %llu events, the oldest first: more than %d were waiting"},
        /* name, failed attempts */
        {LK_MSG_ALERT_RECOVERED, LK_SEV_INFO, "alert-recovered",
         "alert hook '%s' delivers again after %llu failed attempts"},
        /* The tunables ($LKROOT/etc/default/LifeKeeper; docs/LIFEKEEPER.md "Tunables"). */
        /* what (the keys changed), how (lkcli cluster tunables, an edit of the file) */
        {LK_MSG_TUNABLES_CHANGED, LK_SEV_INFO, "tunables-changed", "tunables changed: %s (%s)"},
        /* peer, what */
        {LK_MSG_TUNABLES_FROM_PEER, LK_SEV_INFO, "tunables-from-peer",
         "tunables changed by node %s: %s"},
        /* file, why (naming the line) */
        {LK_MSG_TUNABLES_REFUSED, LK_SEV_ERROR, "tunables-refused",
         "tunables file '%s' refused: %s; the tunables in force are kept until the file is fixed"},
        /* keys */
        {LK_MSG_TUNABLES_RESERVED, LK_SEV_INFO, "tunables-reserved",
         "tunables %s are not passed to scripts: OpenKeeper sets them"},
        /* file, why */
        {LK_MSG_TUNABLES_UNWATCHED, LK_SEV_WARNING, "tunables-unwatched",
         "edits of the tunables file '%s' are not picked up: %s; use lkcli cluster tunables"},
        /* asking node, "uid N, role R", tag ("-" for none), timeout s, the command's first
         * 200 bytes */
        {LK_MSG_REMOTE_EXEC_RAN, LK_SEV_INFO, "remote-exec-ran",
         "remote command asked by %s (%s, tag %s, timeout %us): %s"},
        /* node asked, "uid N, role R", tag, the command's first 200 bytes */
        {LK_MSG_REMOTE_EXEC_ASKED, LK_SEV_INFO, "remote-exec-asked",
         "remote command sent to %s (%s, tag %s): %s"},
        /* what (command, file), asking node, "uid N, role R", why */
        {LK_MSG_REMOTE_REFUSED, LK_SEV_WARNING, "remote-refused",
         "remote %s asked by %s (%s) refused: %s"},
        /* path, mode, bytes, asking node, "uid N, role R" */
        {LK_MSG_REMOTE_PUT, LK_SEV_INFO, "remote-put",
         "file '%s' (mode %04o, %llu bytes) written for %s (%s)"},
        /* node asked, path, bytes, "uid N, role R" */
        {LK_MSG_REMOTE_PUT_ASKED, LK_SEV_INFO, "remote-put-asked",
         "file sent to %s:'%s' (%llu bytes, %s)"},
        /* asking node, bytes written, bytes kept */
        {LK_MSG_REMOTE_OUTPUT_CUT, LK_SEV_WARNING, "remote-output-cut",
         "remote command asked by %s wrote %llu bytes of output: only the first %llu kept"},
        /* asking node, how it ended (exit status N, signal N, timed out after Ns) */
        {LK_MSG_REMOTE_EXEC_ENDED, LK_SEV_INFO, "remote-exec-ended",
         "remote command asked by %s ended: %s"},
        /* node, command, why */
        {LK_MSG_FORWARD_FAILED, LK_SEV_WARNING, "forward-failed",
         "request '%s' forwarded to %s failed: %s"},
        /* node, limit */
        {LK_MSG_FORWARD_BUSY, LK_SEV_WARNING, "forward-busy",
         "request to %s refused: %u requests are in flight to it already"},
        /* node, why */
        {LK_MSG_FORWARD_REJECTED, LK_SEV_WARNING, "forward-rejected",
         "forwarded request from %s dropped: %s"},
        /* state (ISP, ISU), reason */
        {LK_MSG_STATE_SET_IN, LK_SEV_INFO, "state-set-in",
         "state set to %s by hand (%s): restore not run, monitoring follows the state"},
        /* reason */
        {LK_MSG_STATE_SET_OUT, LK_SEV_INFO, "state-set-out",
         "state set to OSU by hand (%s): remove not run, the application is left as it is, "
         "unmonitored"},
        /* state, why */
        {LK_MSG_STATE_SET_REFUSED, LK_SEV_WARNING, "state-set-refused",
         "setting the state to %s by hand refused: %s"},
        /* class, event, monitor, object name, " (-x text)" or "" */
        {LK_MSG_SENDEVENT_INFO, LK_SEV_INFO, "sendevent-info",
         "sendevent: class %s event %s from monitor %s for %s%s"},
        {LK_MSG_SENDEVENT_WARNING, LK_SEV_WARNING, "sendevent-warning",
         "sendevent: class %s event %s from monitor %s for %s%s"},
        {LK_MSG_SENDEVENT_ERROR, LK_SEV_ERROR, "sendevent-error",
         "sendevent: class %s event %s from monitor %s for %s%s"},
        /* The LifeKeeper names of the script copies (core/scriptwatch.c, docs/LIFEKEEPER.md).
         * action, file, bytes */
        {LK_MSG_LKFILE_TAKEN, LK_SEV_INFO, "lkfile-taken",
         "%s script taken from '%s' (%llu bytes): an update-script, replicated"},
        /* file, why, what was done with the file */
        {LK_MSG_LKFILE_REFUSED, LK_SEV_ERROR, "lkfile-refused", "'%s' refused: %s; %s"},
        /* file, why */
        {LK_MSG_LKFILE_UNKNOWN, LK_SEV_WARNING, "lkfile-unknown", "'%s' removed: %s"},
        /* file */
        {LK_MSG_LKFILE_PUT_BACK, LK_SEV_WARNING, "lkfile-put-back",
         "'%s' was removed: put back from the script copy (update-script replaces a script; "
         "resource delete removes it)"},
        /* directory, why */
        {LK_MSG_LKFILE_NOT_WATCHED, LK_SEV_ERROR, "lkfile-not-watched",
         "cannot watch '%s': %s; writes to the LifeKeeper script files are not taken until lkd "
         "starts again"},
};

const struct lk_catalog_entry *lk_catalog_find(int number)
{
    for (size_t i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++) {
        if (catalog[i].number == number) {
            return &catalog[i];
        }
    }
    return NULL;
}

const struct lk_catalog_entry *lk_catalog_all(size_t *ret_count)
{
    *ret_count = sizeof(catalog) / sizeof(catalog[0]);
    return catalog;
}

int lk_catalog_format(char *buf, size_t size, int number, ...)
{
    const struct lk_catalog_entry *e = lk_catalog_find(number);
    if (!e) {
        return -ENOENT;
    }
    va_list ap;
    va_start(ap, number);
    /* The formats are the literals of the table above, never user input. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int n = vsnprintf(buf, size, e->format, ap);
#pragma GCC diagnostic pop
    va_end(ap);
    if (n < 0) {
        return -EINVAL;
    }
    if (size == 0) {
        return 0; /* nothing written; size - 1 would be a bare -1 */
    }
    return (size_t) n >= size ? (int) size - 1 : n;
}

static const char *const severity_names[LK_SEV_COUNT] = {"INFO", "WARNING", "ERROR"};

const char *lk_severity_name(enum lk_severity severity)
{
    return severity < LK_SEV_COUNT ? severity_names[severity] : "INFO";
}

int lk_severity_from_name(const char *name, enum lk_severity *ret_severity)
{
    if (!name) {
        return -EINVAL;
    }
    for (int i = 0; i < LK_SEV_COUNT; i++) {
        if (strcasecmp(name, severity_names[i]) == 0) {
            *ret_severity = (enum lk_severity) i;
            return 0;
        }
    }
    /* The seed system's categories. */
    static const struct {
        const char *name;
        enum lk_severity sev;
    } aliases[] = {{"ERR", LK_SEV_ERROR},    {"FRS_ERR", LK_SEV_ERROR},    {"FATAL", LK_SEV_ERROR},
                   {"WARN", LK_SEV_WARNING}, {"FRS_WARN", LK_SEV_WARNING}, {"FRS_MES", LK_SEV_INFO},
                   {"MSG", LK_SEV_INFO},     {"NOTICE", LK_SEV_INFO}};
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcasecmp(name, aliases[i].name) == 0) {
            *ret_severity = aliases[i].sev;
            return 0;
        }
    }
    return -EINVAL;
}
