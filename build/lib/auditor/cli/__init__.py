"""The command line (``python run_audit.py <command>``): parses arguments, calls a service, prints.

May import ``services`` and ``core``.
"""
