"""C — 卡折代管 (bank-card and passbook custody)."""

LABEL = "卡折代管"
