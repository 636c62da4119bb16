"""What `make run` does, end to end through the console script, twice (idempotent)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

LGCLOUD = shutil.which("lgcloud") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "lgcloud")


def _run(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LGCLOUD_ENV": "development", "LGCLOUD_VAR_DIR": str(var)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("LGCLOUD_DATABASE_URL", None)
    result = subprocess.run([LGCLOUD, *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def _setup(var: Path) -> str:
    _run(var, "migrate", "--no-input")
    loaded = _run(var, "load_municipalities").stdout
    assert "1741 団体" in loaded
    return _run(var, "demo").stdout


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    var = tmp_path_factory.mktemp("var")
    first = _setup(var)
    second = _setup(var)
    return var, first, second


def test_the_database_lives_in_var(twice: tuple[Path, str, str]) -> None:
    var, _, _ = twice
    db = var / "lgcloud.sqlite3"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM municipalities_municipality").fetchone() == (1741,)
        assert conn.execute("SELECT COUNT(*) FROM municipalities_municipality WHERE on_platform").fetchone() == (62,)
        # Running twice created no duplicates.
        assert conn.execute("SELECT COUNT(*) FROM accounts_staff").fetchone() == (19,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_demo_prints_accounts_for_the_three_municipalities_with_passwords(twice: tuple[Path, str, str]) -> None:
    _, first, second = twice
    for code, name in (("131016", "千代田区"), ("131041", "新宿区"), ("132012", "八王子市")):
        lines = [line.split("\t") for line in first.splitlines() if line.startswith(name)]
        assert len(lines) == 6
        assert all(line[1] == code and line[4].startswith("Demo-") for line in lines)
    assert first == second  # idempotent: the same accounts and passwords


def test_demo_passwords_sign_in(twice: tuple[Path, str, str]) -> None:
    var, first, _ = twice
    line = next(line.split("\t") for line in first.splitlines() if line.startswith("新宿区") and "\tcounter\t" in line)
    code = (
        "import django; django.setup();"
        "from lgcloud.accounts.backends import StaffBackend;"
        f"print(StaffBackend().authenticate(None, username='{line[1]}/{line[2]}', password='{line[4]}') is not None)"
    )
    env = {
        **os.environ,
        "LGCLOUD_ENV": "development",
        "LGCLOUD_VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "lgcloud.settings",
    }
    env.pop("LGCLOUD_DATABASE_URL", None)
    python = str(Path(LGCLOUD).parent / "python")
    out = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr


def test_audit_chains_verify_after_setup(twice: tuple[Path, str, str]) -> None:
    var, _, _ = twice
    assert "OK" in _run(var, "audit_verify").stdout


def test_database_url_override(tmp_path: Path) -> None:
    target = tmp_path / "other.sqlite3"
    env = {
        **os.environ,
        "LGCLOUD_ENV": "development",
        "LGCLOUD_VAR_DIR": str(tmp_path / "var"),
        "LGCLOUD_DATABASE_URL": f"sqlite:///{target}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([LGCLOUD, "migrate", "--no-input"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert target.exists()
    assert not (tmp_path / "var" / "lgcloud.sqlite3").exists()


def test_demo_refuses_production_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LGCLOUD_ENV": "production",
        "LGCLOUD_SECRET_KEY": "k" * 50,
        "LGCLOUD_MASTER_KEY": "A" * 43 + "=",
        "LGCLOUD_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LGCLOUD_VAR_DIR": str(tmp_path),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([LGCLOUD, "demo"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "開発環境" in result.stderr


def test_demo_usage_meters_a_month_whose_charges_add_up_and_publishes_open_data(
    twice: tuple[Path, str, str],
) -> None:
    """`make run`'s metering step, on a tiny setting, twice (the second run adds nothing)."""
    var, _, _ = twice
    _run(var, "publish_procedures")
    for _ in range(2):
        _run(var, "demo_usage", "--days", "2", "--requests-per-day", "2")
    with sqlite3.connect(var / "lgcloud.sqlite3") as conn:
        metered = conn.execute(
            "SELECT municipality_id, COUNT(DISTINCT day) FROM ops_usageday WHERE meter = 'requests.page_read'"
            " GROUP BY municipality_id ORDER BY 1"
        ).fetchall()
        assert metered == [("131016", 2), ("131041", 2), ("132012", 2)]
        published = conn.execute("SELECT COUNT(*) FROM ops_opendatarelease WHERE status = 'published'").fetchone()
        assert published == (3,)
        jobs = conn.execute("SELECT COUNT(*) FROM ops_usageday WHERE meter = 'job_ms'").fetchone()
        assert jobs[0] >= 1
    check = (
        "from django.utils import timezone; from lgcloud.ops.charges import compute_month;"
        "m = compute_month(timezone.localdate().strftime('%Y-%m'));"
        "print(m.total_yen, m.cost_yen, len(m.charges))"
    )
    total, cost, municipalities = _run(var, "shell", "-c", check).stdout.strip().splitlines()[-1].split()
    assert total == cost and municipalities == "62"
    month = datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m")
    report = _run(var, "usage_report", "--municipality", "131041", "--month", month).stdout
    assert report.splitlines()[-1].startswith(f"131041,新宿区,{month},合計")
