"""lgcloud: an open-source platform for Japanese municipalities."""

__version__ = "0.1.0"
