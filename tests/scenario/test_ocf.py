"""The ocf type (docs/OCF.md) with Debian's resource-agents: describe-agent, the refusals at
create (validate-all, missing and unknown parameters, Pacemaker's tools, promotable
agents), Dummy and anything through create/monitor/kill/recover/remove, switchover and
failover between two nodes, IPaddr2 moving an address between two network namespaces,
ocf-tester against the supported agents, and the exit-code table end to end with the fake
agent of tests/helpers (one test per row).

The fake agent lives in a test OCF root (a copy of /usr/lib/ocf plus resource.d/lktest/fake)
that the daemons find through LK_OCF_ROOT in their environment."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import cluster as ch
import lkapp
from cluster import wait_eq, wait_for

REPO = Path(__file__).resolve().parents[2]
FAKE = REPO / "tests" / "helpers" / "fake_ocf_agent"
OCF_ROOT = Path("/usr/lib/ocf")
AGENTS = OCF_ROOT / "resource.d" / "heartbeat"
OCF_TESTER = shutil.which("ocf-tester") or "/usr/sbin/ocf-tester"

pytestmark = pytest.mark.skipif(not (AGENTS / "Dummy").exists(),
                                reason="resource-agents is not installed")


def error_of(p):
    """The one-line error of a failed lkcli --json run."""
    assert p.returncode != 0, p.stdout
    return json.loads(p.stderr)["error"]


# ---------------------------------------------------------------------- describe-agent


def test_describe_agent_ipaddr2(node):
    data = node.cli_json("resource", "describe-agent", "heartbeat:IPaddr2")
    assert data["agent"] == "heartbeat:IPaddr2"
    params = {p["name"]: p for p in data["parameters"]}
    assert params["ip"]["required"] and params["ip"]["unique"]
    assert not params["cidr_netmask"]["required"]
    assert not params["ip"]["secret"]
    assert data["advised"]["action-timeout"] == "20"
    assert data["advised"]["quickchk-interval"] == "10"
    assert not data["promotable"]
    # The text form names the same things; "ocf:" and a plain name mean heartbeat.
    out = node.cli("resource", "describe-agent", "ocf:heartbeat:IPaddr2").stdout
    assert out.startswith("heartbeat:IPaddr2 (version "), out
    assert "  ip " in out and "required unique" in out, out
    assert "quickchk-interval  10 s" in out, out
    assert node.cli_json("resource", "describe-agent", "Dummy")["agent"] == "heartbeat:Dummy"


def test_describe_agent_refusals(node):
    p = node.cli("resource", "describe-agent", "heartbeat:NoSuchAgent", json_out=True,
                 check=False)
    assert error_of(p) == ("OCF agent heartbeat:NoSuchAgent is not installed on this node "
                           "(no /usr/lib/ocf/resource.d/heartbeat/NoSuchAgent)")
    p = node.cli("resource", "describe-agent", "heartbeat:../../x", json_out=True, check=False)
    assert p.returncode == 2 and "invalid OCF agent" in error_of(p)
    p = node.cli("resource", "describe-agent", "heartbeat:mysql", json_out=True, check=False)
    assert "needs Pacemaker's tools (" in error_of(p)
    p = node.cli("resource", "describe-agent", json_out=True, check=False)
    assert p.returncode == 2
