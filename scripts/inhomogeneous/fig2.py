"""[ATO19] Fig. 2: heat vs δ and G_Q, inhomogeneous Hamiltonian.

βg0 = 1, σ = 0.02 unless stated; choices the papers leave out are in jaxthermo.apps.figures.CHOSEN and on the plot.
Usage: python scripts/inhomogeneous/fig2.py [OUT_DIR] [--quick]
"""

import sys

from jaxthermo.apps.figures import run_script

if __name__ == "__main__":
    sys.exit(run_script("fig2", description=__doc__))
