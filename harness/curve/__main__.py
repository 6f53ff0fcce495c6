import sys

from harness.curve.cli import main

sys.exit(main())
