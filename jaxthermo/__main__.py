"""``python -m jaxthermo``: the ``jaxthermo`` command (:mod:`jaxthermo.apps.cli`), for where the console
script is not on PATH (``pip install --user``, a virtual environment that is not activated)."""

import sys

from .apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
