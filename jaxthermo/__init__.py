"""jaxthermo: quantum thermodynamics of collisional models in JAX.

Importing jaxthermo turns on ``jax_enable_x64`` (documented policy: physics in float64 by
default; pass float32 inputs, or ``dtype=jnp.float32`` to the ensemble engine, for throughput).
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from ._collision import CollisionResult as CollisionResult  # noqa: E402
from ._collision import Energetics as Energetics  # noqa: E402
from ._collision import collide_unitary as collide_unitary  # noqa: E402
from ._information import coherence as coherence  # noqa: E402
from ._information import free_energy as free_energy  # noqa: E402
from ._information import hermitian_function as hermitian_function  # noqa: E402
from ._information import mutual_information as mutual_information  # noqa: E402
from ._information import petz_renyi_divergence as petz_renyi_divergence  # noqa: E402
from ._information import quantum_free_energy as quantum_free_energy  # noqa: E402
from ._information import quantum_renyi_divergence as quantum_renyi_divergence  # noqa: E402
from ._information import relative_entropy as relative_entropy  # noqa: E402
from ._information import renyi_divergence as renyi_divergence  # noqa: E402
from ._information import sandwiched_renyi_divergence as sandwiched_renyi_divergence  # noqa: E402
from ._information import shannon_entropy as shannon_entropy  # noqa: E402
from ._information import trace_distance as trace_distance  # noqa: E402
from ._information import von_neumann_entropy as von_neumann_entropy  # noqa: E402
from ._qudit import commutator as commutator  # noqa: E402
from ._qudit import dagger as dagger  # noqa: E402
from ._qudit import dephase as dephase  # noqa: E402
from ._qudit import log_partition_function as log_partition_function  # noqa: E402
from ._qudit import partial_swap as partial_swap  # noqa: E402
from ._qudit import partial_trace as partial_trace  # noqa: E402
from ._qudit import populations as populations  # noqa: E402
from ._qudit import spin_z as spin_z  # noqa: E402
from ._qudit import swap as swap  # noqa: E402
from ._qudit import tensor as tensor  # noqa: E402
from ._qudit import thermal_populations as thermal_populations  # noqa: E402
from ._qudit import thermal_state as thermal_state  # noqa: E402
from .inhomogeneous import Empirical as Empirical  # noqa: E402
from .inhomogeneous import ExactUnitary as ExactUnitary  # noqa: E402
from .inhomogeneous import Gaussian as Gaussian  # noqa: E402
from .inhomogeneous import InhomogeneousReservoir as InhomogeneousReservoir  # noqa: E402
from .inhomogeneous import PartialSwap as PartialSwap  # noqa: E402
from .inhomogeneous import Trajectory as Trajectory  # noqa: E402
from .inhomogeneous import TwoPoint as TwoPoint  # noqa: E402
from .inhomogeneous import Uniform as Uniform  # noqa: E402
from .inhomogeneous import collide as collide  # noqa: E402
from .inhomogeneous import trajectory as trajectory  # noqa: E402

# --- model B (coherent) exports: added by the model-B work ---
# --- model C (assignment) exports: added by the model-C work ---
# --- ensemble engine exports: added by the ensemble work ---
from .ensemble import EnsembleResult as EnsembleResult  # noqa: E402
from .ensemble import Histogram as Histogram  # noqa: E402
from .ensemble import SweepResult as SweepResult  # noqa: E402
from .ensemble import ensemble as ensemble  # noqa: E402
from .ensemble import load_result as load_result  # noqa: E402
from .ensemble import load_sweep as load_sweep  # noqa: E402
from .ensemble import save_result as save_result  # noqa: E402
from .ensemble import save_sweep as save_sweep  # noqa: E402
from .ensemble import sweep as sweep  # noqa: E402

__version__ = "0.1.0"
