"""[ATO19] Fig. 5: frozen vs averaged D_1, D_∞ (σ = 0.05, p0 = 0.735; θ = 0.2, N = 100 chosen).

βg0 = 1, σ = 0.02 unless stated; choices the papers leave out are in jaxthermo.apps.figures.CHOSEN and on the plot.
Usage: python scripts/inhomogeneous/fig5.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.apps.figures import run_script

if __name__ == "__main__":
    sys.exit(run_script("fig5", description=__doc__))
