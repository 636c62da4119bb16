import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from lgcloud.core.residency import validate_storage_region


@pytest.mark.parametrize("region", ["jp-east", "jp-west", "ap-northeast-1", "asia-northeast2", "JapanEast"])
def test_japanese_regions_are_accepted(region: str) -> None:
    assert validate_storage_region(region) == region.lower()


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-1", "", "jp"])
def test_regions_outside_japan_are_refused(region: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="国内のリージョンではありません"):
        validate_storage_region(region)


def _lgcloud(*args: str, region: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LGCLOUD_STORAGE_REGION": region,
        "LGCLOUD_ENV": "development",
        "LGCLOUD_DATABASE_URL": "sqlite:///:memory:",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-m", "lgcloud", *args], env=env, capture_output=True, text=True, timeout=60)


def test_lgcloud_check_refuses_a_foreign_region_with_a_clear_message() -> None:
    result = _lgcloud("check", region="us-east-1")
    assert result.returncode == 2
    assert "LGCLOUD_STORAGE_REGION='us-east-1' は国内のリージョンではありません" in result.stderr
    assert "Traceback" not in result.stderr


def test_lgcloud_check_passes_in_japan() -> None:
    result = _lgcloud("check", region="ap-northeast-1")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_system_check_reports_a_region_changed_after_start(settings) -> None:  # type: ignore[no-untyped-def]
    settings.STORAGE_REGION = "us-west-2"
    from django.core.management.base import SystemCheckError

    with pytest.raises(SystemCheckError, match=r"lgcloud\.E001"):
        call_command("check")
