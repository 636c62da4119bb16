"""Production serving as deployed: gunicorn with deploy/gunicorn.conf.py, production settings, collected static files.

Runs a real gunicorn (2 workers) on loopback against SQLite, so it needs no PostgreSQL.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _production_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LGCLOUD_", "DJANGO_"))}
    env.update(
        {
            "LGCLOUD_ENV": "production",
            "LGCLOUD_SECRET_KEY": secrets.token_urlsafe(50),
            "LGCLOUD_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "LGCLOUD_VAR_DIR": str(tmp / "var"),
            "LGCLOUD_DATABASE_URL": f"sqlite:///{tmp / 'var' / 'prod.sqlite3'}",
            "LGCLOUD_ALLOWED_HOSTS": "127.0.0.1",
            "LGCLOUD_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def _lgcloud(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lgcloud"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        found: dict[str, list[str]] = {}
        for k, v in response.getheaders():
            found.setdefault(k.lower(), []).append(v)
        return response.status, found, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("production")
    env = _production_env(tmp)
    for args in (("migrate", "--no-input", "-v", "0"), ("collectstatic", "--no-input", "-v", "0")):
        done = _lgcloud(env, *args)
        assert done.returncode == 0, done.stderr[-2000:]
    port = _free_port()
    log = tmp / "gunicorn.log"
    server_env = {**env, "LGCLOUD_BIND": f"{HOST}:{port}", "LGCLOUD_WORKERS": "2"}
    args = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "lgcloud.wsgi:application"]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=server_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.2)
        yield port, log, env
    finally:
        proc.terminate()
        proc.wait(timeout=30)


HTTPS = {"X-Forwarded-Proto": "https"}


def test_plain_http_is_redirected_to_https_except_the_probes(server: tuple[int, Path, dict[str, str]]) -> None:
    port, _, _ = server
    status, headers, _ = _get(port, "/login/")
    assert status == 301
    assert headers["location"] == [f"https://127.0.0.1:{port}/login/"]
    assert _get(port, "/healthz")[0] == 200
    assert _get(port, "/metrics")[0] == 200


def test_pages_send_hsts_and_host_only_secure_cookies(server: tuple[int, Path, dict[str, str]]) -> None:
    port, _, _ = server
    status, headers, _ = _get(port, "/login/", HTTPS)
    assert status == 200
    assert headers["strict-transport-security"] == ["max-age=31536000; includeSubDomains"]
    cookie = next(c for c in headers.get("set-cookie", []) if c.startswith("__Host-lgcloud_csrftoken="))
    for attribute in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attribute in cookie
    assert "Domain=" not in cookie  # __Host- cookies have none


def test_static_files_are_served_hashed_compressed_and_cached_for_long(
    server: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = server
    _, _, page = _get(port, "/login/", HTTPS)
    paths = re.findall(r'(/static/[^"]+\.css)', page.decode())
    assert paths, "the login page links no stylesheet"
    hashed = [p for p in paths if re.search(r"\.[0-9a-f]{12}\.css$", p)]
    assert hashed == paths  # every link names the content-hashed copy from collectstatic
    status, headers, body = _get(port, paths[0], {**HTTPS, "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == ["gzip"]
    assert body[:2] == b"\x1f\x8b"
    assert "immutable" in headers["cache-control"][0]


def test_the_access_log_keeps_no_query_string(server: tuple[int, Path, dict[str, str]]) -> None:
    port, log, _ = server
    _get(port, "/login/?name=%E9%AB%99%E6%A9%8B&birth_date=1980-04-01", HTTPS)
    time.sleep(0.5)  # the access log line is written after the answer
    text = log.read_text(errors="replace")
    assert '"GET /login/"' in text
    assert "birth_date" not in text and "%E9%AB%99" not in text and "髙橋" not in text


def test_the_deployment_checklist_passes(server: tuple[int, Path, dict[str, str]]) -> None:
    _, _, env = server
    done = _lgcloud({**env, "LGCLOUD_HSTS_PRELOAD": "1"}, "check", "--deploy", "--tag", "security")
    assert done.returncode == 0, done.stderr
    assert "security." not in done.stdout + done.stderr
    # Without the opt-in, the only remark is that HSTS preloading is off.
    default = _lgcloud(env, "check", "--deploy", "--tag", "security")
    assert re.findall(r"security\.\w+", default.stdout + default.stderr) == ["security.W021"]
