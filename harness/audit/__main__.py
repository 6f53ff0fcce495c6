import sys

from harness.audit.cli import main

sys.exit(main())
