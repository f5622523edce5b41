from __future__ import annotations

from datetime import timedelta

import pytest

from loglens.errors import InputError
from loglens.model import parse_ts
from loglens.sources.window import resolve_window

NOW = parse_ts("2026-11-20T12:00:00Z")


def test_no_window_flags_means_no_window() -> None:
    assert resolve_window(since=None, from_=None, to=None, max_window=None) is None


def test_since_ends_now() -> None:
    window = resolve_window(since="30m", from_=None, to=None, max_window=None, now_ns=NOW)
    assert window is not None
    assert window.end_ns == NOW
    assert window.duration_ns == 30 * 60 * 10**9


def test_from_to_rfc3339_with_offsets() -> None:
    window = resolve_window(
        since=None, from_="2026-11-20T10:00:00+01:00", to="2026-11-20T10:30:00Z", max_window=None
    )
    assert window is not None
    assert window.start_ns == parse_ts("2026-11-20T09:00:00Z")
    assert window.to_model().end == "2026-11-20T10:30:00Z"


def test_window_larger_than_maximum_is_refused() -> None:
    with pytest.raises(InputError, match="larger than the maximum"):
        resolve_window(since="8d", from_=None, to=None, max_window=timedelta(days=7), now_ns=NOW)


@pytest.mark.parametrize(
    ("since", "from_", "to", "message"),
    [("1h", "2026-11-20T10:00:00Z", None, "cannot be used together"),
     (None, "yesterday", None, "is not a time"),
     (None, "2026-11-20T10:00:00", None, "is not a time"),
     (None, "2026-11-20T11:00:00Z", "2026-11-20T10:00:00Z", "empty window"),
     (None, None, "2026-11-20T10:00:00Z", "--to needs")],
)  # fmt: skip
def test_bad_windows_say_what_is_wrong(
    since: str | None, from_: str | None, to: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        resolve_window(since=since, from_=from_, to=to, max_window=None, now_ns=NOW)
