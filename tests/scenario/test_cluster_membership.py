"""Cluster membership: comm paths created and deleted live, settings that differ."""

from cluster import wait_eq, wait_for


def test_commpath_delete_live(cluster):
    n1, n2 = cluster.build(2)
    n1.cli("commpath", "delete", "--node", "node2", "--address", n2.addr)
    assert n1.has_event(1662)
    assert all(p["direction"] != "out" for e in n1.commpaths() if e["name"] == "node2"
               for p in e["paths"])
    n2.cli("commpath", "delete", "--node", "node1", "--address", n1.addr)
    # The last path is gone on both ends: each sees the other DEAD.
    cluster.wait_dead([n1], n2)
    cluster.wait_dead([n2], n1)
    for n, other in ((n1, n2), (n2, n1)):
        alive = [p for e in n.commpaths() if e["name"] == other.name for p in e["paths"]
                 if p["state"] == "ALIVE"]
        assert not alive, alive
    # And live again when recreated.
    cluster.connect(n1, n2)
    cluster.wait_all_alive([n1, n2])


def test_settings_mismatch_is_reported(cluster):
    n1, n2 = cluster.build(2)
    n2.stop(force=True)
    conf = n2.root / "etc" / "lk.conf"
    text = conf.read_text()
    assert "heartbeat-misses = 3" in text, text
    conf.write_text(text.replace("heartbeat-misses = 3", "heartbeat-misses = 5"))
    n2.start()
    cluster.wait_all_alive([n1, n2])
    for n in (n1, n2):
        wait_for(lambda n=n: n.has_event(1605), what=f"event 1605 on {n.name}")
        wait_for(lambda n=n: any("node" in w and ("setting" in w or "differ" in w)
                                 for w in n.status()["cluster"]["warnings"]),
                 what=f"a settings warning in {n.name}'s status --json")
        text_status = n.cli("status").stdout
        assert "heartbeat-misses" in text_status or "settings" in text_status, text_status
    # Setting it cluster-wide makes the warning go away.
    cluster.configure([n1, n2], misses=4)
    for n in (n1, n2):
        wait_for(lambda n=n: not any("differ" in w or "mismatch" in w
                                     for w in n.status()["cluster"]["warnings"]),
                 what=f"{n.name}'s settings warning to clear")
        wait_eq(lambda n=n: n.settings()["heartbeat-misses"], "4")
