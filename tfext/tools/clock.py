"""The time the tools judge expiry against, and how they show time.

`TFEXT_NOW` (RFC 3339, e.g. `2030-01-01T00:00:00Z`) replaces the system clock, so tests and "what will
have expired by then?" checks need no waiting. Functions that judge time also take `now` directly.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

from tfext.errors import echo

ENV_NOW = "TFEXT_NOW"


def parse_time(text: str) -> dt.datetime:
    """An RFC 3339 time (`Z` or an offset; a time without one is taken as UTC), as an aware datetime."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def now(environ: Mapping[str, str] | None = None) -> dt.datetime:
    """The current time in UTC, or the time in `TFEXT_NOW` when it is set.

    Raises ValueError with a readable message when `TFEXT_NOW` is not an RFC 3339 time.
    """
    environ = os.environ if environ is None else environ
    given = environ.get(ENV_NOW, "").strip()
    if not given:
        return dt.datetime.now(dt.UTC)
    try:
        return parse_time(given).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"{ENV_NOW}={echo(given)} is not an RFC 3339 time, such as 2030-01-01T00:00:00Z"
        ) from None


def residual(delta: dt.timedelta) -> str:
    """A short remaining time in kubeadm's style: `45s`, `12m`, `23h`, `364d`, `2y`; `<expired>` when past."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "<expired>"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 365 * 86400:
        return f"{seconds // 86400}d"
    return f"{seconds // (365 * 86400)}y"


def rfc3339(when: dt.datetime) -> str:
    """`2029-11-28T13:24:19Z`."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def human(when: dt.datetime) -> str:
    """`Nov 28, 2029 13:24 UTC`, as kubeadm prints expiry dates."""
    return when.astimezone(dt.UTC).strftime("%b %d, %Y %H:%M UTC")
