"""[ATO-preprint] Fig. 1: single-collision work vs δ and its distribution G_W (five p0).

βg0 = 1, σ = 0.02 unless stated; choices the papers leave out are in jaxthermo.apps.figures.CHOSEN and on the plot.
Usage: python scripts/inhomogeneous/preprint_fig1.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.apps.figures import run_script

if __name__ == "__main__":
    sys.exit(run_script("preprint_fig1", description=__doc__))
