"""The rule catalogue: one module per rule, ``checks/<family>/<CODE>.py``."""
