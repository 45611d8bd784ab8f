"""``python -m jaxthermo.apps.verify``, the same as ``python -m jaxthermo.verify``."""

import sys

from . import main

sys.exit(main())
