"""Model A: inhomogeneous reservoirs (SPEC §3)."""

from ._distributions import Empirical as Empirical
from ._distributions import Gaussian as Gaussian
from ._distributions import TwoPoint as TwoPoint
from ._distributions import Uniform as Uniform
from ._dynamics import Trajectory as Trajectory
from ._dynamics import collide as collide
from ._dynamics import collide_closed_form as collide_closed_form
from ._dynamics import collide_generic as collide_generic
from ._dynamics import trajectory as trajectory
from ._model import ExactUnitary as ExactUnitary
from ._model import InhomogeneousReservoir as InhomogeneousReservoir
from ._model import PartialSwap as PartialSwap
from ._model import reservoir_hamiltonian as reservoir_hamiltonian
from ._model import reservoir_parameters as reservoir_parameters
from ._model import reservoir_populations as reservoir_populations
from ._model import reservoir_state as reservoir_state
