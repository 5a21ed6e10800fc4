"""Timestamps over columns: the instant of each ``created_at`` text the columnar path
takes (:data:`ISO_TIMESTAMP`), in microseconds since the epoch.

Any other text gives null, and its row goes to the residue, where the core parses it.
"""

from __future__ import annotations

import re

import polars as pl

from kravia_schedule import rules

#: The timestamps taken on the columnar path (rules.PLAIN_TIMESTAMP_FORM), anchored;
#: anything else goes to the residue, where the core parses it.
ISO_TIMESTAMP = f"^(?:{rules.PLAIN_TIMESTAMP_FORM})$"
_TAIL = re.compile(rules.TIMESTAMP_TAIL_FORM)
#: A frame with more distinct tails than this reads each row's tail itself (see tails);
#: a test lowers it.
_TAILS = 1 << 12

_NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def instant(text: pl.Expr, tails: pl.DataFrame | None = None) -> pl.Expr:
    """The instant (microseconds since the epoch) of an :data:`ISO_TIMESTAMP` text with
    a "T" (null for other text, or a day the month does not have).

    ``tails`` (see :func:`tails`) gives the correction of every distinct tail (the
    fraction less the offset); without it each row's tail is read from its text."""
    if tails is None:
        utc = text.str.ends_with("Z")
        offset_length = pl.when(utc).then(1).otherwise(6)
        fraction_length = text.str.len_bytes().cast(pl.Int64) - 20 - offset_length
        fraction = (
            text.str.slice(20, fraction_length.clip(lower_bound=0))
            .str.pad_end(6, "0")
            .cast(pl.Int64, strict=False)
        )
        suffix = text.str.slice(-6, 6)
        sign = pl.when(suffix.str.starts_with("-")).then(-1).otherwise(1)
        hours = suffix.str.slice(1, 2).cast(pl.Int64, strict=False)
        minutes = suffix.str.slice(4, 2).cast(pl.Int64, strict=False)
        offset = pl.when(utc).then(0).otherwise(sign * (hours * 60 + minutes))
        correction = fraction - offset * 60_000_000
    else:
        correction = text.str.slice(19).replace_strict(
            tails["tail"], tails["correction"], default=None, return_dtype=pl.Int64
        )
    # The date and time of day: read by Polars (a day the month lacks gives null); a
    # space instead of the "T" gives null too, and the row goes to the core. Uncached:
    # instants are mostly distinct, so a cache would only cost.
    local = text.str.slice(0, 19).str.to_datetime(
        _NAIVE_FORMAT, time_unit="us", strict=False, cache=False
    )
    valid = text.str.contains(ISO_TIMESTAMP)
    return pl.when(valid).then(local.dt.epoch("us") + correction)


def tails(text: pl.Series) -> pl.DataFrame | None:
    """The distinct tails of the timestamps ``text`` (what follows the seconds: usually a
    few offsets, with or without milliseconds) and the correction each one makes to the
    time of day in microseconds (null for a tail not of the form); ``None`` if there are
    more than :data:`_TAILS`, as with microseconds, where reading each row's is cheaper.

    A few tails parsed once each are cheaper than every row's fraction and offset sliced
    and cast from its text."""
    tail = pl.col("text").str.slice(19)
    frame = text.alias("text").to_frame()
    # A first look at a slice, so that a frame of mostly distinct tails costs little.
    if frame.head(_TAILS * 4).select(tail.n_unique()).item() > _TAILS:
        return None
    distinct = frame.lazy().select(tail.unique().alias("tail")).collect().to_series()
    if distinct.len() > _TAILS:
        return None
    corrections: list[int | None] = []
    for value in distinct.to_list():
        match = _TAIL.fullmatch(value) if value is not None else None
        if match is None:
            corrections.append(None)
            continue
        fraction, sign, hours, minutes = match.groups()
        micros = int(fraction.ljust(6, "0")) if fraction else 0
        offset = int(hours) * 60 + int(minutes) if sign else 0
        corrections.append(micros - (-offset if sign == "-" else offset) * 60_000_000)
    return pl.DataFrame(
        [distinct, pl.Series("correction", corrections, dtype=pl.Int64)]
    ).drop_nulls("tail")
