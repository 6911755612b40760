"""D — 失信记录 (dishonesty records, 一处失信、他处受限)."""

LABEL = "失信记录"
