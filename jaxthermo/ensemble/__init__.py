"""The ensemble engine: sampling from (seed, i), chunked streaming statistics, sharding over
devices and hosts, checkpoint/resume, progress, sweeps, save/load (SPEC §6)."""

from ._result import EnsembleResult as EnsembleResult
from ._result import Histogram as Histogram
from ._result import ensemble as ensemble
from ._result import load_result as load_result
from ._result import save_result as save_result
