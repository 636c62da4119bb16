import re

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_checks_the_database(client: Client, tokyo: list[str]) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "sqlite"


def test_healthz_reports_a_broken_database(client: Client, tokyo: list[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db import OperationalError

    def broken_cursor(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("database is locked")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "error: OperationalError"
    assert "locked" not in response.content.decode()  # no internals to the load balancer


def test_metrics_serve_prometheus_text_without_personal_data(client: Client, tokyo: list[str]) -> None:
    client.get("/login/")
    client.get("/staff/98765/")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'lgcloud_http_requests_total{method="GET",route="web:login",status="200"}' in text
    assert "lgcloud_database_up 1.0" in text
    assert 'lgcloud_municipalities{on_platform="false"} 62.0' in text
    # Routes, never raw paths: the id appears in no label (a sample's value may hold any digits).
    labels = re.findall(r"\{[^}]*\}", text)
    assert labels and not [label for label in labels if "98765" in label or "/staff/" in label]


def test_metrics_can_require_a_token(client: Client, settings, tokyo: list[str]) -> None:  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200


def test_every_response_carries_a_request_id(client: Client) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21"})
    assert response["X-Request-ID"] == "lb-7f3a9c21"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(generated["X-Request-ID"]) == 32
