"""gunicorn settings for lgcloud: ``gunicorn -c deploy/gunicorn.conf.py lgcloud.wsgi:application``.

Every value comes from the environment (docs/operations.md lists them):

- ``LGCLOUD_BIND`` (127.0.0.1:8000): behind the reverse proxy that ends TLS;
- ``LGCLOUD_WORKERS`` (2 × CPUs + 1) processes × ``LGCLOUD_THREADS`` (2) threads;
- ``LGCLOUD_TIMEOUT`` (60 s): a worker stuck longer is killed and replaced;
- ``LGCLOUD_MAX_REQUESTS`` (2000, ±10 % jitter): workers are recycled now and then.

The access log holds the path without the query string: a search's query string
carries names and birth dates, which never go to logs.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("LGCLOUD_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LGCLOUD_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("LGCLOUD_THREADS", "2"))
worker_class = "gthread"
timeout = int(os.environ.get("LGCLOUD_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("LGCLOUD_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
max_requests = int(os.environ.get("LGCLOUD_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The reverse proxy's address: only it may say the request came over HTTPS.
forwarded_allow_ips = os.environ.get("LGCLOUD_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("LGCLOUD_ACCESS_LOG", "-")
# %(U)s is the path only (no query string); %(M)s the duration in ms; X-Request-ID ties lines to the app log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("LGCLOUD_GUNICORN_LOG_LEVEL", "warning")


def post_worker_init(worker: object) -> None:
    """Load the certificate fonts when the worker starts, so the first certificate does not pay for it.

    A missing font is not fatal here: the start-up check (lgcloud.W002) reports it, and a
    certificate rendered without its fonts is refused (render_failed) rather than printed wrong.
    """
    import logging

    from lgcloud.registry.rendering import TypesetError, typesetter

    try:
        typesetter()
    except TypesetError:
        logging.getLogger("lgcloud.registry").warning("certificate fonts not loaded at worker start")
