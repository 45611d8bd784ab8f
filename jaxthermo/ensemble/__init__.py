"""The ensemble engine: sampling from (seed, i), chunked streaming statistics, sharding over
devices and hosts, checkpoint/resume, progress, sweeps, save/load (docs/ensemble.md).

Also the generic, differentiable frozen-configuration average of any trajectory observable
(:func:`frozen_ensemble_mean`), built from the engine's sampler and model A's collision.
"""

from .._histogram import Histogram as Histogram
from ._files import CheckpointMismatch as CheckpointMismatch
from ._files import FileFormatError as FileFormatError
from ._files import FileInUseError as FileInUseError
from ._frozen import FrozenVersusAveraged as FrozenVersusAveraged
from ._frozen import frozen_ensemble_mean as frozen_ensemble_mean
from ._frozen import frozen_vs_averaged_divergence as frozen_vs_averaged_divergence
from ._frozen import sample_configurations as sample_configurations
from ._objective import EnsembleMean as EnsembleMean
from ._objective import ensemble_mean as ensemble_mean
from ._result import EnsembleResult as EnsembleResult
from ._result import ensemble as ensemble
from ._result import load_result as load_result
from ._result import save_result as save_result
from ._sensitivity import DeltaSensitivity as DeltaSensitivity
from ._sensitivity import Sensitivity as Sensitivity
from ._sweep import SweepResult as SweepResult
from ._sweep import load_sweep as load_sweep
from ._sweep import save_sweep as save_sweep
from ._sweep import sweep as sweep
from ._watchdog import SlowChunkWarning as SlowChunkWarning
from ._xarray import attr_array as attr_array
