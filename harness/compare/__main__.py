"""`python -m harness.compare baseline=... candidates=[...] primary_metric=...`."""

from __future__ import annotations

import sys

from harness.compare.cli import main

sys.exit(main(sys.argv[1:]))
