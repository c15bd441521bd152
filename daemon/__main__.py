"""``python -m daemon`` is ``attendd``."""

import sys

from .cli import main

sys.exit(main())
