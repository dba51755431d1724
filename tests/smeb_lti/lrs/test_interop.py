"""An independent client (npm @xapi/xapi, in Node) drives the LRS over real HTTP: statements, paging, voiding, state."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.node import node_env, run_node

SCRIPT = Path(__file__).parent / "interop" / "xapi_client.cjs"
REPO = Path(__file__).resolve().parents[3]


def test_the_xapi_npm_client_round_trips_statements_paging_voiding_and_state(lrs_server):
    node = shutil.which("node")
    assert node, "Node.js is needed for the interop test (apt-get install -y nodejs)"
    assert (REPO / "node_modules" / "@xapi" / "xapi").is_dir(), "run `npm install` (package.json lists @xapi/xapi)"
    summary = run_node(SCRIPT, env=node_env(LRS_ENDPOINT=lrs_server.endpoint, LRS_AUTH=lrs_server.auth_header), timeout=120)
    assert summary["paged"] == 6
    assert summary["state"] == "ok"
    assert "1.0.3" in summary["about"]
