"""``python -m lpengine.cli`` runs the command line (as ``python -m lpengine`` does)."""

import sys

from . import main

sys.exit(main())
