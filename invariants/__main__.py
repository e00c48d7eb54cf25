"""``python -m invariants``: the same command line as the ``invariants`` script."""
from __future__ import annotations

import sys

from invariants.cli import main

if __name__ == "__main__":
    sys.exit(main())
