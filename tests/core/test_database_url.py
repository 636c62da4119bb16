"""LGCLOUD_DATABASE_URL with several hosts (east,west) reaches libpq as host and port lists."""

from __future__ import annotations

from lgcloud.core.database_url import parse


def test_a_multi_host_url_gives_libpq_host_and_port_lists() -> None:
    config = parse(
        "postgresql://lgcloud_app:p%40ss@east.db:5433,west.db:5434,[::1]/lgcloud"
        "?target_session_attrs=read-write&connect_timeout=3",
        conn_max_age=60,
        conn_health_checks=True,
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"]) == ("east.db,west.db,::1", "5433,5434,5432")
    assert (config["USER"], config["PASSWORD"], config["NAME"]) == ("lgcloud_app", "p@ss", "lgcloud")
    assert config["OPTIONS"] == {"target_session_attrs": "read-write", "connect_timeout": 3}
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)


def test_a_single_host_url_is_parsed_as_before() -> None:
    config = parse("postgresql://u:p@db:5432/lgcloud")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db", 5432, "lgcloud")
    assert parse("sqlite:///:memory:")["ENGINE"] == "django.db.backends.sqlite3"
