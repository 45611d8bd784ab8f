"""The ensemble engine: sampling from (seed, i), chunked streaming statistics, sharding over
devices and hosts, checkpoint/resume, progress, sweeps, save/load (SPEC §6)."""

from ._result import EnsembleResult as EnsembleResult
from ._result import Histogram as Histogram
from ._result import ensemble as ensemble
from ._result import load_result as load_result
from ._result import save_result as save_result
from ._sweep import SweepResult as SweepResult
from ._sweep import load_sweep as load_sweep
from ._sweep import save_sweep as save_sweep
from ._sweep import sweep as sweep
