"""[ATO19] Fig. 4: βW, βΔF_1, βΔF_3 vs δ (θ = 0.1, βg0 = 1, p0 = 0.75).

βg0 = 1, σ = 0.02 unless stated; choices the papers leave out are in jaxthermo.apps.figures.CHOSEN and on the plot.
Usage: python scripts/inhomogeneous/fig4.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.apps.figures import run_script

if __name__ == "__main__":
    sys.exit(run_script("fig4", description=__doc__))
