"""`python -m proxy` does what the `cf-v1-proxy` command does."""

import sys

from proxy.cli import main

sys.exit(main())
