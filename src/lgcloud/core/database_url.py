"""``LGCLOUD_DATABASE_URL`` → Django's DATABASES entry, multi-host URLs included.

libpq (and so psycopg) takes several hosts, each with its own port::

    postgresql://app:…@east.db:5432,west.db:5432/lgcloud?target_session_attrs=read-write&connect_timeout=3

and connects to the first that answers and accepts writes: after a failover the
app finds the promoted standby by itself. dj-database-url 3.1 parses a host list
without ports but refuses one with ports (urllib cannot split it), so the host
list is taken out here and handed to libpq as comma-separated HOST and PORT.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import dj_database_url

DEFAULT_PORT = "5432"


def _split_hosts(netloc_hosts: str) -> tuple[str, str]:
    hosts: list[str] = []
    ports: list[str] = []
    for item in netloc_hosts.split(","):
        if item.startswith("["):  # [IPv6]:port
            host, _, rest = item[1:].partition("]")
            port = rest.lstrip(":")
        else:
            host, _, port = item.partition(":")
        hosts.append(unquote(host))
        ports.append(port or DEFAULT_PORT)
    return ",".join(hosts), ",".join(ports)


def parse(url: str, conn_max_age: int = 0, conn_health_checks: bool = False) -> dict[str, Any]:
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    userinfo, at, hostlist = authority.rpartition("@")
    if sep and "," in hostlist:
        single = f"{scheme}://{userinfo}{at}multi-host{slash}{tail}"
        config: dict[str, Any] = dict(
            dj_database_url.parse(single, conn_max_age=conn_max_age, conn_health_checks=conn_health_checks)
        )
        config["HOST"], config["PORT"] = _split_hosts(hostlist)
        return config
    return dict(dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=conn_health_checks))
