"""``python -m integration`` is the ``hitl-bridge`` command."""

import sys

from .cli import main

sys.exit(main())
