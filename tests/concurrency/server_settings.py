"""Settings for the server under test: the test suite's, plus a slow, sometimes stuck, renderer.

``LGCLOUD_RENDER_DELAY_SECONDS`` is the rendering module's development-only hook: it
sleeps ``float(settings.LGCLOUD_RENDER_DELAY_SECONDS)`` seconds before each render.
Here that value is drawn afresh for every render:

- usually ``KIOSK_TEST_DELAY + U(0, KIOSK_TEST_JITTER)``: a slow printer;
- with probability ``KIOSK_TEST_STUCK_RATE``, ``KIOSK_TEST_STUCK_SECONDS``: a stuck
  one, longer than the render deadline, so those requests time out on any machine
  (the sleep costs no CPU, so the timeouts do not depend on how fast the machine is).
"""

from __future__ import annotations

import os
import random

from tests.settings import *  # noqa: F403


class _RenderDelay:
    """A number that is different each time it is read (random's module functions are thread-safe)."""

    def __init__(self) -> None:
        self.base = float(os.environ.get("KIOSK_TEST_DELAY", "0"))
        self.jitter = float(os.environ.get("KIOSK_TEST_JITTER", "0"))
        self.stuck_rate = float(os.environ.get("KIOSK_TEST_STUCK_RATE", "0"))
        self.stuck_seconds = float(os.environ.get("KIOSK_TEST_STUCK_SECONDS", "0"))

    def __float__(self) -> float:
        if random.random() < self.stuck_rate:  # noqa: S311  (test timing, not security)
            return self.stuck_seconds
        return self.base + random.uniform(0.0, self.jitter)  # noqa: S311

    def __repr__(self) -> str:
        return f"{self.base}+U(0,{self.jitter}), {self.stuck_seconds} s with p={self.stuck_rate}"


LGCLOUD_RENDER_DELAY_SECONDS = _RenderDelay()
