"""Settings for the test suite: lgcloud's own, with development defaults."""

import os

os.environ.setdefault("LGCLOUD_ENV", "development")
os.environ.setdefault("LGCLOUD_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test"))

from lgcloud.settings import *  # noqa: F403

# Argon2 at full cost dominates a suite that creates hundreds of accounts; the
# hasher itself is what we test, not its cost parameters.
PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]

# Metering: the tests flush when they mean to, and keep raw records out of var/.
USAGE_FLUSH_SECONDS = 0
USAGE_LOG_DIR = ""
