"""jaxthermo: quantum thermodynamics of collisional models in JAX.

Importing jaxthermo sets five documented global policies:

* ``jax_enable_x64``: physics in float64 by default; pass float32 inputs, or
  ``dtype=jnp.float32`` to the ensemble engine, for throughput;
* ``jax_default_matmul_precision = "highest"``: on GPUs, float32 matrix products would otherwise
  run in TF32 (10-bit mantissa) and lose ~1e-4 relative accuracy (measured on an H100 in the
  model-B and model-C float32 tests). No effect on CPUs;
* only with jaxlib 0.10.0–0.11.0, which the dependency range excludes but a user may have
  installed anyway: ``--xla_cpu_enable_concurrency_optimized_scheduler=false`` appended to
  ``XLA_FLAGS`` (unless the user set that flag). These releases split batched LAPACK calls over
  XLA's CPU thread pool, which can deadlock when several such calls run concurrently
  (docs/xla_cpu_hangs.md). It must be in place before JAX creates its CPU backend; if the backend
  already exists, a warning says so;
* ``jax_num_cpu_devices`` = the cores this process may use (its CPU affinity: ``taskset``, a SLURM
  allocation; ``os.cpu_count()`` where the platform does not say; one CPU device per core, so
  :func:`jaxthermo.ensemble` shards over every core by default), only if JAX's backend has not started yet and the user has
  not chosen a device count (``--xla_force_host_platform_device_count`` in ``XLA_FLAGS``, the
  ``JAX_NUM_CPU_DEVICES`` environment variable, or ``jax.config.update("jax_num_cpu_devices", n)``
  before importing jaxthermo). Affects only the CPU platform (accelerators are unchanged);
* on processors with AVX-512 (Linux): ``--xla_cpu_prefer_vector_width=512`` appended to
  ``XLA_FLAGS`` unless the user set that flag (XLA otherwise generates 256-bit vectors there; the
  ensemble engine's default qubit call runs ×1.15–1.2 faster, results agree to rounding). Like the
  device count, it takes effect only if JAX's CPU backend has not started yet.
"""

import os as _os

from ._runtime import cpu_has_avx512 as _cpu_has_avx512
from ._runtime import lapack_splits_batches as _lapack_splits_batches
from ._runtime import usable_cpu_count as _usable_cpu_count
from ._runtime import with_vector_width as _with_vector_width

_XLA_SCHEDULER_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler=false"
if _lapack_splits_batches and "xla_cpu_enable_concurrency_optimized_scheduler" not in _os.environ.get("XLA_FLAGS", ""):
    _os.environ["XLA_FLAGS"] = (_os.environ.get("XLA_FLAGS", "") + " " + _XLA_SCHEDULER_FLAG).strip()
    _XLA_FLAG_ADDED = True
else:
    _XLA_FLAG_ADDED = False

import jax as _jax  # noqa: E402
from jax._src import xla_bridge as _xla_bridge  # noqa: E402

# 512-bit vectors in XLA's CPU code on AVX-512 processors, unless the user chose (docstring)
if not getattr(_xla_bridge, "_backends", None):
    _flags = _with_vector_width(_os.environ.get("XLA_FLAGS", ""), _cpu_has_avx512())
    if _flags:
        _os.environ["XLA_FLAGS"] = _flags

if _XLA_FLAG_ADDED and getattr(_xla_bridge, "_backends", None):
    import warnings as _warnings

    _warnings.warn(
        "jaxthermo: JAX's CPU backend started before jaxthermo was imported, so XLA_FLAGS="
        f"{_XLA_SCHEDULER_FLAG} could not take effect; import jaxthermo first (or set the flag) to "
        "avoid a known XLA:CPU deadlock of batched linear algebra (docs/xla_cpu_hangs.md)",
        RuntimeWarning,
        stacklevel=2,
    )

# one CPU device per core unless the user chose (docstring)
if (
    not getattr(_xla_bridge, "_backends", None)
    and "xla_force_host_platform_device_count" not in _os.environ.get("XLA_FLAGS", "")
    and "JAX_NUM_CPU_DEVICES" not in _os.environ
    and _jax.config.jax_num_cpu_devices == -1
    and _usable_cpu_count() > 1
):
    _jax.config.update("jax_num_cpu_devices", _usable_cpu_count())

_jax.config.update("jax_enable_x64", True)
_jax.config.update("jax_default_matmul_precision", "highest")

from ._collision import CollisionResult as CollisionResult  # noqa: E402
from ._collision import Energetics as Energetics  # noqa: E402
from ._collision import collide_unitary as collide_unitary  # noqa: E402
from ._config import config as config  # noqa: E402
from ._histogram import Histogram as Histogram  # noqa: E402
from ._information import coherence as coherence  # noqa: E402
from ._information import divergences_to_thermal as divergences_to_thermal  # noqa: E402
from ._information import free_energy as free_energy  # noqa: E402
from ._information import mutual_information as mutual_information  # noqa: E402
from ._information import petz_renyi_divergence as petz_renyi_divergence  # noqa: E402
from ._information import quantum_free_energy as quantum_free_energy  # noqa: E402
from ._information import quantum_renyi_divergence as quantum_renyi_divergence  # noqa: E402
from ._information import relative_entropy as relative_entropy  # noqa: E402
from ._information import renyi_divergence as renyi_divergence  # noqa: E402
from ._information import renyi_divergence_log as renyi_divergence_log  # noqa: E402
from ._information import sandwiched_renyi_divergence as sandwiched_renyi_divergence  # noqa: E402
from ._information import shannon_entropy as shannon_entropy  # noqa: E402
from ._information import trace_distance as trace_distance  # noqa: E402
from ._information import von_neumann_entropy as von_neumann_entropy  # noqa: E402
from ._linalg import hermitian_function as hermitian_function  # noqa: E402
from ._qudit import Dimensions as Dimensions  # noqa: E402
from ._qudit import commutator as commutator  # noqa: E402
from ._qudit import dagger as dagger  # noqa: E402
from ._qudit import dephase as dephase  # noqa: E402
from ._qudit import expectation as expectation  # noqa: E402
from ._qudit import gibbs_populations as gibbs_populations  # noqa: E402
from ._qudit import gibbs_state as gibbs_state  # noqa: E402
from ._qudit import log_partition_function as log_partition_function  # noqa: E402
from ._qudit import partial_swap as partial_swap  # noqa: E402
from ._qudit import partial_trace as partial_trace  # noqa: E402
from ._qudit import populations as populations  # noqa: E402
from ._qudit import spin_z as spin_z  # noqa: E402
from ._qudit import swap as swap  # noqa: E402
from ._qudit import tensor as tensor  # noqa: E402
from ._qudit import thermal_populations as thermal_populations  # noqa: E402
from ._qudit import thermal_state as thermal_state  # noqa: E402
from ._qutip import to_qobj as to_qobj  # noqa: E402
from ._superoperators import lindblad_dissipator as lindblad_dissipator  # noqa: E402
from ._superoperators import superoperator as superoperator  # noqa: E402
from .assignment import Assignment as Assignment  # noqa: E402
from .assignment import GlobalEnergetics as GlobalEnergetics  # noqa: E402
from .assignment import GlobalModel as GlobalModel  # noqa: E402
from .assignment import MinimalDissipation as MinimalDissipation  # noqa: E402
from .assignment import QuadraticEnergetics as QuadraticEnergetics  # noqa: E402
from .assignment import QuadraticReservoirs as QuadraticReservoirs  # noqa: E402
from .assignment import ReducedMap as ReducedMap  # noqa: E402
from .assignment import canonical_form as canonical_form  # noqa: E402
from .assignment import canonical_hamiltonian as canonical_hamiltonian  # noqa: E402
from .assignment import energy_assignment as energy_assignment  # noqa: E402
from .assignment import exact_generator as exact_generator  # noqa: E402
from .assignment import minimal_dissipation as minimal_dissipation  # noqa: E402
from .assignment import quadratic_energetics as quadratic_energetics  # noqa: E402
from .assignment import reduced_map as reduced_map  # noqa: E402
from .coherent import CoherentCollision as CoherentCollision  # noqa: E402
from .coherent import CoherentCollisionModel as CoherentCollisionModel  # noqa: E402
from .coherent import CollisionThermodynamics as CollisionThermodynamics  # noqa: E402
from .coherent import EigenoperatorCoupling as EigenoperatorCoupling  # noqa: E402
from .coherent import MultiSpeciesModel as MultiSpeciesModel  # noqa: E402
from .coherent import StroboscopicStep as StroboscopicStep  # noqa: E402
from .coherent import StroboscopicTrajectory as StroboscopicTrajectory  # noqa: E402
from .coherent import coherent_drive as coherent_drive  # noqa: E402
from .coherent import coherent_work_rate as coherent_work_rate  # noqa: E402
from .coherent import collision_thermodynamics as collision_thermodynamics  # noqa: E402
from .coherent import dissipator as dissipator  # noqa: E402
from .coherent import eigenoperator_model as eigenoperator_model  # noqa: E402
from .coherent import energy_coherence as energy_coherence  # noqa: E402
from .coherent import entropy_production_rate as entropy_production_rate  # noqa: E402
from .coherent import incoherent_heat_rate as incoherent_heat_rate  # noqa: E402
from .coherent import liouvillian as liouvillian  # noqa: E402
from .coherent import master_equation_rhs as master_equation_rhs  # noqa: E402
from .coherent import propagate as propagate  # noqa: E402
from .coherent import qubit_example as qubit_example  # noqa: E402
from .coherent import steady_state as steady_state  # noqa: E402
from .coherent import stroboscopic_step as stroboscopic_step  # noqa: E402
from .coherent import stroboscopic_trajectory as stroboscopic_trajectory  # noqa: E402
from .ensemble import EnsembleMean as EnsembleMean  # noqa: E402
from .ensemble import EnsembleResult as EnsembleResult  # noqa: E402
from .ensemble import FrozenVersusAveraged as FrozenVersusAveraged  # noqa: E402
from .ensemble import SweepResult as SweepResult  # noqa: E402
from .ensemble import ensemble as ensemble  # noqa: E402
from .ensemble import ensemble_mean as ensemble_mean  # noqa: E402
from .ensemble import frozen_ensemble_mean as frozen_ensemble_mean  # noqa: E402
from .ensemble import frozen_vs_averaged_divergence as frozen_vs_averaged_divergence  # noqa: E402
from .ensemble import load_result as load_result  # noqa: E402
from .ensemble import load_sweep as load_sweep  # noqa: E402
from .ensemble import save_result as save_result  # noqa: E402
from .ensemble import save_sweep as save_sweep  # noqa: E402
from .ensemble import sweep as sweep  # noqa: E402
from .inhomogeneous import CollisionSamples as CollisionSamples  # noqa: E402
from .inhomogeneous import CollisionStep as CollisionStep  # noqa: E402
from .inhomogeneous import Coupling as Coupling  # noqa: E402
from .inhomogeneous import Distribution as Distribution  # noqa: E402
from .inhomogeneous import Empirical as Empirical  # noqa: E402
from .inhomogeneous import ExactUnitary as ExactUnitary  # noqa: E402
from .inhomogeneous import Gaussian as Gaussian  # noqa: E402
from .inhomogeneous import InhomogeneousReservoir as InhomogeneousReservoir  # noqa: E402
from .inhomogeneous import PartialSwap as PartialSwap  # noqa: E402
from .inhomogeneous import Trajectory as Trajectory  # noqa: E402
from .inhomogeneous import TwoPoint as TwoPoint  # noqa: E402
from .inhomogeneous import Uniform as Uniform  # noqa: E402
from .inhomogeneous import accumulated_mean_work as accumulated_mean_work  # noqa: E402
from .inhomogeneous import approximate_second_law_epsilon as approximate_second_law_epsilon  # noqa: E402
from .inhomogeneous import averaged_reservoir_state as averaged_reservoir_state  # noqa: E402
from .inhomogeneous import averaged_trajectory as averaged_trajectory  # noqa: E402
from .inhomogeneous import collide as collide  # noqa: E402
from .inhomogeneous import collision_number_scaling as collision_number_scaling  # noqa: E402
from .inhomogeneous import collision_second_laws as collision_second_laws  # noqa: E402
from .inhomogeneous import collision_step as collision_step  # noqa: E402
from .inhomogeneous import entropy_production as entropy_production  # noqa: E402
from .inhomogeneous import free_energies as free_energies  # noqa: E402
from .inhomogeneous import free_energy_changes as free_energy_changes  # noqa: E402
from .inhomogeneous import heat_density as heat_density  # noqa: E402
from .inhomogeneous import heat_support as heat_support  # noqa: E402
from .inhomogeneous import mean_heat as mean_heat  # noqa: E402
from .inhomogeneous import mean_work as mean_work  # noqa: E402
from .inhomogeneous import partial_swap_error as partial_swap_error  # noqa: E402
from .inhomogeneous import single_collision_histogram as single_collision_histogram  # noqa: E402
from .inhomogeneous import single_collision_samples as single_collision_samples  # noqa: E402
from .inhomogeneous import trajectory as trajectory  # noqa: E402
from .inhomogeneous import work_density as work_density  # noqa: E402
from .inhomogeneous import work_support as work_support  # noqa: E402

__version__ = "0.1.0"
