#!/usr/bin/env python3
"""Entry point: ``python run_audit.py <command>`` (see ``--help``)."""

import sys

from auditor.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
