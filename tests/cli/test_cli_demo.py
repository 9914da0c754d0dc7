"""`syncd demo`, the quickstart's first command: the whole product against its simulators, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_demo_syncs_contacts_runs_every_flow_and_writes_nothing_twice(tmp_path: Path) -> None:
    store = tmp_path / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "syncd", "demo", "--contacts", "150", "--store", f"sqlite:///{store}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "1. First sync, both ways" in out
    assert "2. Next cycle right after: 0 writes" in out
    assert "5. Next cycle of every flow: 0 writes" in out
    for flow in ("contacts", "deals", "campaigns", "engagements", "activities", "alerts"):
        assert f"    {flow:<12} succeeded;" in out, flow
    assert store.is_file()
