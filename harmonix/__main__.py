"""``python -m harmonix``: the same as the ``harmonix`` command."""

import sys

from harmonix.cli import main

sys.exit(main())
