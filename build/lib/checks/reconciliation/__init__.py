"""R — 业务系统与资金内控平台比对 (business system vs fund internal-control ledger)."""

LABEL = "资金比对"
