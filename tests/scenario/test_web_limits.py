"""lkweb's limits (docs/WEB.md "Limits") against real daemons: the request rates that lkweb
applies before it asks lkd anything (a guest token past its burst gets 429 with
Retry-After even while lkd is frozen; an admin token has no rate; bad tokens and logins pay
per client address), and the request-head deadline that closes slow-loris clients while
the others are served.

The HTTP client is the standard library's (http.client, socket) only."""

import socket
import threading
import time

from cluster import wait_for
from test_web_api import assert_error, token, web_of  # noqa: F401

HEAD_DEADLINE_S = 10


def assert_429(r):
    assert_error(r, 429, 1, "too many requests")
    assert int(r.headers["retry-after"]) >= 1, r.headers


def test_a_guest_token_past_its_burst_gets_429_without_lkd(cluster, web_of):
    n1, = cluster.build(1)
    web = web_of(n1, rate=None)
    g = token(n1, "guest")["token"]
    statuses = []
    for _ in range(400):
        r = web.get("/api/v1/status", token=g)
        statuses.append(r.status)
        if r.status == 429:
            assert_429(r)
            break
    assert statuses[-1] == 429 and set(statuses) == {200, 429}, statuses
    assert statuses.count(200) >= 40  # the burst was served

    # lkd frozen: the refused requests come back all the same (lkd is never asked for
    # them); the few within the rate wait for lkd and get 504 (or 503: lkweb's calls all
    # taken).
    results = []

    def one(i):
        results.append(web.get("/api/v1/status", token=g, source=f"127.0.3.{i % 4 + 1}",
                               timeout=60))

    with cluster.fencing_window():
        n1.sigstop()
        try:
            threads = [threading.Thread(target=one, args=(i,)) for i in range(60)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        finally:
            n1.sigcont()
    assert len(results) == 60
    assert {r.status for r in results} <= {429, 503, 504}, [r.status for r in results]
    refused = [r for r in results if r.status == 429]
    for r in refused:
        assert_429(r)
    assert len(refused) >= 30, [r.status for r in results]
    # Served again once the rate allows.
    wait_for(lambda: web.get("/api/v1/status", token=g).status == 200, timeout=30,
             what="the guest token served again")


def test_an_admin_token_has_no_rate_and_an_operator_has_its_own(cluster, web_of):
    n1, = cluster.build(1)
    web = web_of(n1, rate=None)
    a = token(n1, "admin")["token"]
    o = token(n1, "operator")["token"]
    for _ in range(200):
        r = web.get("/api/v1/nodes", token=a)
        assert r.status == 200, r
    # The operator's token is limited on its own, the admin's is still served.
    st = []
    for _ in range(400):
        st.append(web.get("/api/v1/nodes", token=o).status)
        if st[-1] == 429:
            break
    assert st[-1] == 429 and st.count(200) >= 40, st
    assert web.get("/api/v1/nodes", token=a).status == 200


def test_bad_tokens_and_logins_pay_per_address(cluster, web_of):
    n1, = cluster.build(1)
    web = web_of(n1, rate=None)
    g = token(n1, "guest")["token"]
    st = []
    for i in range(200):
        r = web.get("/api/v1/status", token="lk_" + ("%043d" % i), source="127.0.4.1")
        st.append(r.status)
        if r.status == 429:
            assert_429(r)
            break
    assert st[-1] == 429 and set(st) == {401, 429} and st.count(401) >= 20, st
    # No token at all, from the same address: refused on the same rate.
    assert_429(web.get("/api/v1/status", source="127.0.4.1"))
    # Logins flood from another address.
    st = []
    for i in range(200):
        r = web.post("/api/v1/login", {"token": "lk_" + ("%043d" % i)}, source="127.0.4.2")
        st.append(r.status)
        if r.status == 429:
            assert_429(r)
            break
    assert st[-1] == 429 and set(st) == {401, 429}, st
    # A valid token from another address is served meanwhile; its login too.
    assert web.get("/api/v1/status", token=g, source="127.0.4.3").status == 200
    assert web.post("/api/v1/login", {"token": g}, source="127.0.4.3").status == 200


def test_slow_loris_clients_are_closed_after_the_head_deadline(cluster, web_of):
    n1, = cluster.build(1)
    web = web_of(n1, rate=None)
    g = token(n1, "guest")["token"]
    head = b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    socks = []
    for i in range(40):
        s = socket.create_connection((web.host, web.port), timeout=10,
                                     source_address=(f"127.0.5.{i + 1}", 0))
        socks.append(s)
    sent = [0] * len(socks)
    open_ = set(range(len(socks)))

    def drip():
        """One header byte on every open connection; those lkweb closed leave the set."""
        for i in list(open_):
            s = socks[i]
            try:
                s.settimeout(0.01)
                try:
                    if s.recv(1) == b"":
                        open_.discard(i)
                        continue
                except (socket.timeout, BlockingIOError):
                    pass
                s.sendall(head[sent[i] % len(head):sent[i] % len(head) + 1])
                sent[i] += 1
            except OSError:
                open_.discard(i)

    t_end = time.monotonic() + HEAD_DEADLINE_S + 60
    served = 0
    while open_ and time.monotonic() < t_end:
        drip()
        r = web.get("/api/v1/nodes", token=g, timeout=30)
        assert r.status == 200, r
        served += 1
        time.sleep(2)
    assert not open_, f"{len(open_)} slow connections still open"
    assert served >= 2
    assert min(sent) >= 2  # each one did drip bytes before it was closed
    for s in socks:
        s.close()
    assert web.get("/api/v1/status", token=g).status == 200
