"""Which municipality a request works for, noted for usage metering (the ``ops`` app books it).

Metering must never mix municipalities, and it must cost the request next to nothing. A
signed-in member of staff names their municipality; anyone else (an API token, a system
client, the kiosk, a resident on the portal, the public verification page) is known only
once the code opens a tenant block. So :func:`bound` calls :func:`note` with the block's
municipality, and the first one a request opens is the one it is booked to. A context
variable set per request keeps concurrent requests (threads) apart; outside a request
(commands, workers) nothing is noted.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class Attribution:
    """Filled while one request runs; read by the metering middleware when it ends."""

    lg_code: str | None = None


_current: ContextVar[Attribution | None] = ContextVar("lgcloud_usage_attribution", default=None)


def begin() -> tuple[Attribution, Token[Attribution | None]]:
    attribution = Attribution()
    return attribution, _current.set(attribution)


def end(token: Token[Attribution | None]) -> None:
    _current.reset(token)


def note(lg_code: str | None) -> None:
    """A tenant block for ``lg_code`` opened (cheap: one context-variable read)."""
    attribution = _current.get()
    if attribution is not None and attribution.lg_code is None and lg_code:
        attribution.lg_code = lg_code
