/* The message catalog: every event the daemon logs has a stable number, a severity and a
 * format. Numbers never change meaning once released (SPEC §8). Pure: formatting only. */
#pragma once

#include <stddef.h>

enum lk_severity {
    LK_SEV_INFO,
    LK_SEV_WARNING,
    LK_SEV_ERROR,
    LK_SEV_COUNT,
};

/* Catalog numbers. Ranges: 1000 daemon, 1100 definitions, 1200 actions, 1300 scripts,
 * 1500 monitoring (1517 = check timeout, from the seed system; 1520 files a user can influence:
 * the fence script), 1600 cluster, 9000 messages from
 * scripts through lk_err (their own numbers travel in the text). */
enum lk_msg {
    LK_MSG_DAEMON_STARTED = 1000,
    LK_MSG_DAEMON_STOPPING = 1001,
    LK_MSG_DAEMON_STOPPED = 1002,
    LK_MSG_ACTION_INTERRUPTED = 1003,
    LK_MSG_STORE_FAILED = 1010,
    LK_MSG_STORE_NOT_WRITABLE = 1011,
    LK_MSG_STORE_WRITABLE = 1012,
    LK_MSG_STORE_RESERVE_USED = 1013,
    LK_MSG_STORE_NO_RESERVE = 1014,
    LK_MSG_CLIENTS_BUSY = 1020,
    LK_MSG_CLIENTS_FDS = 1021,
    LK_MSG_CLIENTS_SHED = 1022,
    LK_MSG_CLIENTS_RATE = 1023,
    LK_MSG_CLIENTS_TOO_LARGE = 1024,
    LK_MSG_CLIENTS_TIMEOUT = 1025,
    LK_MSG_CLIENTS_BUFFERED = 1026,
    LK_MSG_RESOURCE_CREATED = 1100,
    LK_MSG_RESOURCE_DELETED = 1101,
    LK_MSG_RESOURCE_CONFIGURED = 1102,
    LK_MSG_SCRIPT_UPDATED = 1103,
    LK_MSG_DEPENDENCY_CREATED = 1110,
    LK_MSG_DEPENDENCY_DELETED = 1111,
    LK_MSG_RESTORE_STARTED = 1200,
    LK_MSG_RESTORE_OK = 1201,
    LK_MSG_RESTORE_FAILED = 1202,
    LK_MSG_REMOVE_STARTED = 1203,
    LK_MSG_REMOVE_OK = 1204,
    LK_MSG_REMOVE_FAILED = 1205,
    LK_MSG_PROBE_OK = 1210,
    LK_MSG_PROBE_FAILED = 1211,
    LK_MSG_PROBE_IMPOSSIBLE = 1212,
    LK_MSG_SCRIPT_REFUSED = 1300,
    LK_MSG_CHECK_FAILED = 1500,
    LK_MSG_RECOVER_STARTED = 1501,
    LK_MSG_RECOVERED = 1502,
    LK_MSG_RECOVER_FAILED = 1503,
    LK_MSG_RECOVERY_LIMIT = 1504,
    LK_MSG_RESOURCE_FAILED = 1505,
    LK_MSG_PROCESS_EXITED = 1506,
    LK_MSG_MONITOR_SUSPENDED = 1507,
    LK_MSG_MONITOR_RESUMED = 1508,
    LK_MSG_COUNTERS_RESET = 1509,
    LK_MSG_PIDFILE_PROBLEM = 1510,
    LK_MSG_STOP_FAILED_CLEARED = 1511,
    LK_MSG_CGROUP_EMPTY = 1512,
    LK_MSG_LEFTOVERS_KILLED = 1513,
    LK_MSG_REMOVE_KILLED = 1514,
    LK_MSG_KILL_FAILED = 1515,
    LK_MSG_INTERRUPTED_RUN = 1516,
    LK_MSG_CHECK_TIMEOUT = 1517,
    LK_MSG_FENCE_REFUSED = 1520,
    LK_MSG_FENCE_UNUSABLE = 1521,
    /* Verdicts of a resource's type (issue 13, lk_verdict in result.h). */
    LK_MSG_DEGRADED = 1530,
    LK_MSG_NOT_INSTALLED = 1531,
    LK_MSG_NOT_CONFIGURED = 1532,
    LK_MSG_STOPPED_AT_PROBE = 1533,
    LK_MSG_HARD_ERROR = 1534,
    LK_MSG_UNABLE_CLEARED = 1535,
    LK_MSG_UNABLE_SKIPPED = 1536,
    LK_MSG_TYPE_ADMITTED = 1540, /* 1540-1549: OCF agents and the types' admission */
    LK_MSG_TYPE_REFUSED = 1541,
    LK_MSG_SYSTEMD_OWNED = 1550,
    LK_MSG_SYSTEMD_RELEASED = 1551,
    LK_MSG_SYSTEMD_OWN_FAILED = 1552,
    LK_MSG_SYSTEMD_RELEASE_FAILED = 1553,
    LK_MSG_PARAMS_CHANGED = 1570, /* issue 13: a resource's parameters (secrets as ***) */
    LK_MSG_HELPER_UPDATED = 1571, /* issue 13: a helper file installed or replaced */
    LK_MSG_PATH_ALIVE = 1600,
    LK_MSG_PATH_DEAD = 1601,
    LK_MSG_NODE_ALIVE = 1602,
    LK_MSG_NODE_DEAD = 1603,
    LK_MSG_FRAME_DROPPED = 1604,
    LK_MSG_SETTINGS_MISMATCH = 1605,
    LK_MSG_DAEMON_RESUMED = 1606,
    LK_MSG_UNKNOWN_PEER = 1607,
    LK_MSG_QUORUM_GAINED = 1610,
    LK_MSG_QUORUM_LOST = 1611,
    LK_MSG_FAILOVER = 1620,
    LK_MSG_TAKEOVER = 1621,
    LK_MSG_FAILOVER_LIMIT = 1622,
    LK_MSG_NEWER_GENERATION = 1623,
    LK_MSG_NO_TARGET = 1624,
    LK_MSG_SWITCHOVER = 1625,
    LK_MSG_SWITCHBACK = 1626,
    LK_MSG_ORPHAN = 1627,
    LK_MSG_CLUSTER_REMOVED = 1628,
    LK_MSG_FAILING_OVER = 1629,
    LK_MSG_FENCE_STARTED = 1630,
    LK_MSG_FENCE_OK = 1631,
    LK_MSG_FENCE_FAILED = 1632,
    LK_MSG_SWITCH_REFUSED = 1633,
    LK_MSG_RECORD_HANDED = 1634,
    LK_MSG_DATA_RECEIVED = 1640,
    LK_MSG_DATA_SYNCED = 1641,
    LK_MSG_DATA_REJECTED = 1642,
    LK_MSG_EXTENDED = 1650,
    LK_MSG_UNEXTENDED = 1651,
    LK_MSG_CLUSTER_CONFIGURED = 1660,
    LK_MSG_COMMPATH_CREATED = 1661,
    LK_MSG_COMMPATH_DELETED = 1662,
    LK_MSG_CONTAINMENT = 1670,
    LK_MSG_GUARD_FENCED = 1671,
    LK_MSG_PEER_FENCED_ITSELF = 1672,
    LK_MSG_PORT_REFUSED = 1680,
    LK_MSG_PORT_SHED = 1681,
    LK_MSG_PORT_TIMEOUT = 1682,
    LK_MSG_PEER_PROTOCOL_OLD = 1690,
    LK_MSG_PROTOCOL_REFUSED = 1691,
    LK_MSG_PEER_PROTOCOL = 1692,
    LK_MSG_KEY_ROTATION_STARTED = 1693,
    LK_MSG_KEY_REPLACED = 1694,
    LK_MSG_KEY_ROTATION_FAILED = 1695,
    LK_MSG_KEY_NOT_GIVEN = 1696,
    LK_MSG_ALERT_ADDED = 1715,
    LK_MSG_ALERT_DELETED = 1716,
    LK_MSG_ALERT_FAILED = 1717,
    LK_MSG_ALERT_GAVE_UP = 1718,
    LK_MSG_ALERT_DROPPED = 1719,
    LK_MSG_ALERT_RECOVERED = 1720,
    /* The tunables (issue 14: core/tunwatch.c, api_cluster.c, cluster.c). */
    LK_MSG_TUNABLES_CHANGED = 1730,
    LK_MSG_TUNABLES_FROM_PEER = 1731,
    LK_MSG_TUNABLES_REFUSED = 1732,
    LK_MSG_TUNABLES_RESERVED = 1733,
    LK_MSG_TUNABLES_UNWATCHED = 1734,
    /* Remote commands and forwarded requests (issue 14: lcdremexec, lcdrcp, -d NODE). */
    LK_MSG_REMOTE_EXEC_RAN = 1735,
    LK_MSG_REMOTE_EXEC_ASKED = 1736,
    LK_MSG_REMOTE_REFUSED = 1737,
    LK_MSG_REMOTE_PUT = 1738,
    LK_MSG_REMOTE_PUT_ASKED = 1739,
    LK_MSG_REMOTE_OUTPUT_CUT = 1740,
    LK_MSG_REMOTE_EXEC_ENDED = 1741,
    LK_MSG_FORWARD_FAILED = 1742,
    LK_MSG_FORWARD_BUSY = 1743,
    LK_MSG_FORWARD_REJECTED = 1744,

    /* ins_setstate: a state set by hand (issue 14, 1745-1749). */
    LK_MSG_STATE_SET_IN = 1745,
    LK_MSG_STATE_SET_OUT = 1746,
    LK_MSG_STATE_SET_REFUSED = 1747,
    LK_MSG_LKFILE_TAKEN = 1755, /* 1755-1759: the LifeKeeper names of the script copies */
    LK_MSG_LKFILE_REFUSED = 1756,
    LK_MSG_LKFILE_UNKNOWN = 1757,
    LK_MSG_LKFILE_PUT_BACK = 1758,
    LK_MSG_LKFILE_NOT_WATCHED = 1759,
    /* sendevent (src/cli/compat/sendevent.c, through log.write): a monitor's event in
     * LifeKeeper's terms, by its severity; 1753-1754 are kept for it. */
    LK_MSG_SENDEVENT_INFO = 1750,
    LK_MSG_SENDEVENT_WARNING = 1751,
    LK_MSG_SENDEVENT_ERROR = 1752,
};

/* The alerts' own events (core/alerts.c): never delivered to the hook they name. */
#define LK_MSG_ALERT_FIRST 1715
#define LK_MSG_ALERT_LAST  1729

struct lk_catalog_entry {
    int number;
    enum lk_severity severity;
    const char *name;   /* stable identifier, e.g. "restore-failed" */
    const char *format; /* printf format; its arguments are documented per entry */
};

/* The entry for a number, or NULL if the catalog has none. */
const struct lk_catalog_entry *lk_catalog_find(int number);

/* The whole catalog, in number order; *ret_count entries. */
const struct lk_catalog_entry *lk_catalog_all(size_t *ret_count);

/* Formats entry number's message with the arguments its format takes. Returns the
 * number of bytes written (truncated at size - 1), or -ENOENT for an unknown number. */
int lk_catalog_format(char *buf, size_t size, int number, ...);

const char *lk_severity_name(enum lk_severity severity);
int lk_severity_from_name(const char *name, enum lk_severity *ret_severity);
