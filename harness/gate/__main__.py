"""`python -m harness.gate gate=<name> candidate=<run id or model>`."""

from __future__ import annotations

import sys

from harness.gate.cli import main

sys.exit(main(sys.argv[1:]))
