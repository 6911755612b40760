"""S — 审批金额与救助标准 (approved amounts and standards)."""

LABEL = "审批金额与救助标准"
