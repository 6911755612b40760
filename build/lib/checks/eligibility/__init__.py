"""E — 动态管理与信息共享核查 (eligibility and dynamic management)."""

LABEL = "动态管理"
