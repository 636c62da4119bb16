"""kill -9 in the middle of the eligibility run: the job shows what committed, a rerun finishes it, nobody twice.

Runs the real CLI in a subprocess on a real SQLite file (the same code path staff use).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME = ROOT / "src" / "lgcloud" / "benefits" / "programmes" / "push-2026.yaml"
CODE = "131016"


def _cli(env: dict[str, str], *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgcloud", *args], env=env, capture_output=True, text=True, check=True, timeout=300, **kw
    )


def test_kill_9_then_rerun(tmp_path: Path) -> None:
    db = tmp_path / "kill.sqlite3"
    env = {
        **os.environ,
        "LGCLOUD_ENV": "development",
        "LGCLOUD_VAR_DIR": str(tmp_path),
        "LGCLOUD_DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "lgcloud.settings",
    }
    _cli(env, "migrate", "--no-input", "-v", "0")
    _cli(env, "load_municipalities")
    _cli(env, "generate_town", "--municipality", CODE, "--residents", "1500", "--as-of", "2026-10-01")
    _cli(env, "benefit_programme", "--municipality", CODE, str(PROGRAMME))

    run = [
        sys.executable,
        "-m",
        "lgcloud",
        "benefit_eligibility",
        "--municipality",
        CODE,
        "--programme",
        "push-2026",
        "--chunk-size",
        "1",
        "--no-progress",
    ]
    proc = subprocess.Popen(run, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    con = sqlite3.connect(db, timeout=30)
    deadline = time.monotonic() + 120
    done = 0
    while done < 20:
        assert time.monotonic() < deadline, "the run never got going"
        assert proc.poll() is None, "the run finished before it could be killed: make the town bigger"
        time.sleep(0.05)
        row = con.execute("SELECT done FROM core_job WHERE kind = 'benefits.eligibility'").fetchone()
        done = row[0] if row else 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    state, done, total, checkpoint = con.execute(
        "SELECT state, done, total, checkpoint FROM core_job WHERE kind = 'benefits.eligibility'"
    ).fetchone()
    written, last = con.execute("SELECT count(*), max(household_number) FROM benefits_entitlement").fetchone()
    assert state == "running" and 20 <= done < total
    assert (written, last) == (done, checkpoint)  # the job's counts and checkpoint are exactly what committed

    out = _cli(env, "benefit_eligibility", "--municipality", CODE, "--programme", "push-2026", "--no-progress").stdout
    assert "完了" in out
    state, done, attempts = con.execute(
        "SELECT state, done, attempts FROM core_job WHERE kind = 'benefits.eligibility'"
    ).fetchone()
    rows, households = con.execute(
        "SELECT count(*), count(DISTINCT household_number) FROM benefits_entitlement"
    ).fetchone()
    assert (state, attempts) == ("succeeded", 2)
    assert rows == households == total == done
    con.close()
