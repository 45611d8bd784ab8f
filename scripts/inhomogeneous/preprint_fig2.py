"""[ATO-preprint] Fig. 2: βW, βΔF_1, βΔF_3 vs δ, p0 = 0.75 (θ = 0.1 chosen).

βg0 = 1, σ = 0.02 unless stated; choices the papers leave out are in jaxthermo.apps.figures.CHOSEN and on the plot.
Usage: python scripts/inhomogeneous/preprint_fig2.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.apps.figures import run_script

if __name__ == "__main__":
    sys.exit(run_script("preprint_fig2", description=__doc__))
