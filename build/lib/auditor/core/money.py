"""Money is integer fen (分) everywhere; these turn it into yuan text exactly."""

from __future__ import annotations

from decimal import Decimal

import polars as pl


def yuan(fen: pl.Expr) -> pl.Expr:
    """Integer fen -> ``"1234.50"`` (String), exact, no float on the way."""
    a = fen.abs()
    text = pl.concat_str(
        pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (a // 100).cast(pl.String), pl.lit("."),
        (a % 100).cast(pl.String).str.zfill(2),
    )
    return pl.when(fen.is_null()).then(None).otherwise(text)


def fen_to_yuan(fen: int | None) -> str:
    """Python int fen -> ``"1234.50"``."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def to_fen(value: Decimal | int | str) -> int:
    """A yuan amount from config (Decimal/int/str) -> integer fen, exactly."""
    fen = Decimal(str(value)) * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{value} has more than 2 decimals")
    return int(fen)
