"""District profiles (TOML), shipped as ``auditor.profiles``."""
