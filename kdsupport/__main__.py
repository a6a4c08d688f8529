"""``python -m kdsupport``: the same as the ``kdsupport`` command."""

import sys

from kdsupport.cli import main

sys.exit(main())
