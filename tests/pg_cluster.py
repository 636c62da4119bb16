"""A throwaway PostgreSQL cluster on loopback, for tests, benchmarks and drills.

::

    with throwaway_cluster() as cluster:
        db = create_lgcloud_database(cluster, "lgcloud_test")
        db.owner_url  # migrations run as the owner
        db.app_url  # the application connects as lgcloud_app

The cluster lives in a fresh temporary directory, listens on 127.0.0.1 only, on
a free port, and is stopped (``-m immediate``) and deleted on exit. initdb refuses
to run as root, so under root every server binary runs as the ``postgres`` OS
user through ``runuser``; under any other user it runs as that user.

Authentication: scram-sha-256 with random passwords over TCP, as in production.
The Unix socket is trusted, but it lives in the cluster's own directory (mode
0700), so only its owner and root can reach it; nothing here uses it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
HOST = "127.0.0.1"
SUPERUSER = "postgres"
OWNER_ROLE = "lgcloud_owner"
APP_ROLE = "lgcloud_app"

# A throwaway cluster need not survive a crash, so it skips the fsyncs (migrate
# runs about twice as fast). Pass durable=True for drills that kill servers on purpose.
FAST_SETTINGS: dict[str, str] = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries the end of the server log."""


def find_bindir() -> Path:
    """PostgreSQL's server binaries: ``LGCLOUD_PG_BINDIR``, Debian's 15, or whatever initdb is on PATH."""
    configured = os.environ.get("LGCLOUD_PG_BINDIR")
    if configured:
        return Path(configured)
    if (DEFAULT_BINDIR / "initdb").exists():
        return DEFAULT_BINDIR
    initdb = shutil.which("initdb")
    if initdb is None:
        raise ClusterError("PostgreSQL server binaries not found: install postgresql-15 (make system-deps)")
    return Path(initdb).resolve().parent


def _free_port() -> int:
    # The port is free now; another process could take it before the server binds,
    # so start_cluster retries with a new one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The OS user to run the server as: ``postgres`` under root, else None (ourselves)."""
    return SUPERUSER if os.geteuid() == 0 else None


@dataclass
class PgCluster:
    """A running throwaway cluster. Stop it with :meth:`stop` (or use :func:`throwaway_cluster`)."""

    base: Path
    port: int
    bindir: Path
    superuser_password: str
    run_as: str | None = None
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def logfile(self) -> Path:
        return self.base / "server.log"

    def url(self, user: str, database: str = "postgres") -> str:
        password = self.superuser_password if user == SUPERUSER else self.passwords[user]
        return f"postgresql://{user}:{password}@{HOST}:{self.port}/{database}"

    def superuser_url(self, database: str = "postgres") -> str:
        return self.url(SUPERUSER, database)

    def run(self, binary: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one of the server binaries (pg_ctl, pg_basebackup, …) as the cluster's OS user."""
        command = [str(self.bindir / binary), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        # cwd: the postgres user may not be allowed into the caller's directory.
        result = subprocess.run(command, cwd=self.base, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise ClusterError(
                f"{binary} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n--- server log ---\n{self.log_tail()}"
            )
        return result

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def connect(self, database: str = "postgres", *, autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
        """A superuser connection (for setting up roles and databases, and for checking from outside RLS)."""
        return psycopg.connect(self.superuser_url(database), autocommit=autocommit)

    def stop(self) -> None:
        """Stop the server at once and delete its directory."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start_cluster(
    *,
    settings: Mapping[str, str] | None = None,
    durable: bool = False,
    bindir: Path | None = None,
    attempts: int = 3,
) -> PgCluster:
    """initdb a new cluster in a temporary directory and start it on a free loopback port.

    ``settings`` are appended to postgresql.conf (PG 15's initdb has no ``-c``).
    """
    bindir = bindir or find_bindir()
    run_as = _run_as()
    base = Path(tempfile.mkdtemp(prefix="lgcloud-pg-"))
    if run_as is not None:
        shutil.chown(base, user=run_as, group=run_as)
    cluster = PgCluster(base=base, port=0, bindir=bindir, superuser_password=secrets.token_hex(16), run_as=run_as)
    try:
        pwfile = base / "pwfile"
        pwfile.write_text(cluster.superuser_password + "\n")
        if run_as is not None:
            shutil.chown(pwfile, user=run_as, group=run_as)
        cluster.run(
            "initdb",
            "-D",
            str(cluster.datadir),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        pwfile.unlink()
        conf = {
            "listen_addresses": f"'{HOST}'",
            "unix_socket_directories": f"'{base}'",
            **({} if durable else FAST_SETTINGS),
            **(settings or {}),
        }
        with (cluster.datadir / "postgresql.conf").open("a") as f:
            f.write("\n# lgcloud throwaway cluster\n")
            f.writelines(f"{name} = {value}\n" for name, value in conf.items())
        for attempt in range(1, attempts + 1):
            cluster.port = _free_port()
            result = cluster.run(
                "pg_ctl",
                "-D",
                str(cluster.datadir),
                "-l",
                str(cluster.logfile),
                "-o",
                f"-p {cluster.port}",
                "-w",
                "-t",
                "30",
                "start",
                check=attempt == attempts,
            )
            if result.returncode == 0:
                break
            time.sleep(0.1)
        return cluster
    except BaseException:
        cluster.stop()
        raise


@contextmanager
def throwaway_cluster(
    *, settings: Mapping[str, str] | None = None, durable: bool = False, bindir: Path | None = None
) -> Iterator[PgCluster]:
    cluster = start_cluster(settings=settings, durable=durable, bindir=bindir)
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass(frozen=True)
class LgcloudDatabase:
    """One database set up the way production is: owned by the owner role, used by the app role."""

    name: str
    superuser_url: str
    owner_url: str
    app_url: str


def ensure_role(cluster: PgCluster, name: str, attributes: str) -> None:
    """Create a LOGIN role with a random password (once per cluster)."""
    if name in cluster.passwords:
        return
    password = secrets.token_hex(16)
    with cluster.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + attributes).format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
    cluster.passwords[name] = password


def create_lgcloud_database(cluster: PgCluster, name: str) -> LgcloudDatabase:
    """A database owned by ``lgcloud_owner``, plus the ``lgcloud_app`` role that is neither owner nor superuser.

    The app role gets its table privileges from ``migrate`` (core.postgres.grant_app_role).
    """
    ensure_role(cluster, OWNER_ROLE, "NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE")
    ensure_role(cluster, APP_ROLE, "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    with cluster.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
        # Only the two lgcloud roles may connect; PUBLIC may not.
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(APP_ROLE)
            )
        )
    return LgcloudDatabase(
        name=name,
        superuser_url=cluster.superuser_url(name),
        owner_url=cluster.url(OWNER_ROLE, name),
        app_url=cluster.url(APP_ROLE, name),
    )


if __name__ == "__main__":
    # A quick check by hand: `python -m tests.pg_cluster` starts, creates, stops.
    started = time.perf_counter()
    with throwaway_cluster() as c:
        up = time.perf_counter()
        database = create_lgcloud_database(c, "lgcloud_check")
        with psycopg.connect(database.app_url) as app:
            row = app.execute("SELECT current_user, version()").fetchone()
        print(f"up in {up - started:.2f} s on port {c.port}: {row}")
    print(f"stopped and removed {c.base} after {time.perf_counter() - started:.2f} s")
