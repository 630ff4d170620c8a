"""revbook: the revenue book of a Customer Success organisation."""

from __future__ import annotations

__version__ = "0.1.0"
