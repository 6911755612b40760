"""One module per command, each with ``register(subparsers)``."""
