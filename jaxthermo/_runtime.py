"""What the installed jaxlib and the machine do that changes how jaxthermo runs.

**LAPACK batch splitting** (docs/xla_cpu_hangs.md).

jaxlib 0.10.0–0.11.0 split every large batched LAPACK call (LU, eigendecomposition, SVD, ...) over
XLA's CPU intra-op thread pool and block the calling pool thread until the pieces finish; several
such calls in flight at once can deadlock the pool. Earlier releases run each batch inline, and
the upstream fix (jax commit 859992407d) compiles the splitting out of later open-source wheels.
The supported dependency range excludes these releases; for a user who installed one anyway,
jaxthermo applies an XLA scheduler flag at import and keeps multi-device eigendecomposition
batches small (:data:`lapack_splits_batches`).

**Vector width.** XLA's CPU code generator prefers 256-bit vectors unless told otherwise, also on
processors with AVX-512. On such processors jaxthermo asks for 512-bit vectors at import
(:data:`VECTOR_WIDTH_FLAG`, only if the user has not set ``xla_cpu_prefer_vector_width``): the
ensemble engine's default call then runs ×1.15–1.2 faster for a qubit and ≈ ×1.1 for a qutrit on an
AMD EPYC with AVX-512 (benchmarks/RESULTS_ensemble.md). Only the generated loops' vector width
changes: results agree to rounding (the lanes of a vectorised sum group differently).

**Usable cores** (:func:`usable_cpu_count`): the CPU device count jaxthermo gives JAX at import.
"""

import os
import re
import sys
from importlib.metadata import PackageNotFoundError, version

# first and last jaxlib release with LAPACK batch splitting on CPU (docs/xla_cpu_hangs.md, "Versions")
SPLITTING_RELEASES = ((0, 10, 0), (0, 11, 0))


def release(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a version string such as ``"0.10.2"`` or ``"0.11.0.dev20260716"``."""
    m = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if m is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(g or 0) for g in m.groups())


def splits_lapack_batches(jaxlib_version: str) -> bool:
    """True for the jaxlib releases whose CPU LAPACK kernels split batches over XLA's thread pool."""
    first, last = SPLITTING_RELEASES
    return first <= release(jaxlib_version) <= last


def installed_jaxlib() -> str:
    """The installed jaxlib's version, read without importing JAX (so before its backend starts)."""
    try:
        return version("jaxlib")
    except PackageNotFoundError:  # a source build without metadata: assume the affected releases
        return ".".join(map(str, SPLITTING_RELEASES[1]))


lapack_splits_batches = splits_lapack_batches(installed_jaxlib())


# XLA flag asking for 512-bit vectors in the CPU code XLA generates (module docstring)
VECTOR_WIDTH_FLAG = "--xla_cpu_prefer_vector_width=512"


def usable_cpu_count() -> int:
    """The cores this process may run on: its CPU affinity (``taskset``, SLURM ``--cpus-per-task``, cgroup
    cpusets; ``os.process_cpu_count`` from Python 3.13, ``os.sched_getaffinity`` on Linux), else
    ``os.cpu_count()``. ``os.cpu_count()`` alone counts the machine's cores: a job given 1 of 64 got 64
    CPU devices competing for one core."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is None and hasattr(os, "sched_getaffinity"):
        counter = lambda: len(os.sched_getaffinity(0))
    return (counter or os.cpu_count)() or 1


def cpuinfo_has_avx512(cpuinfo: str) -> bool:
    """True if a ``/proc/cpuinfo`` text lists the ``avx512f`` flag (AVX-512 Foundation) for its processors."""
    flags = [line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")]
    return bool(flags) and all("avx512f" in f for f in flags)


def cpu_has_avx512() -> bool:
    """True on Linux processors with AVX-512 (read from ``/proc/cpuinfo``); False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            return cpuinfo_has_avx512(f.read())
    except OSError:
        return False


def with_vector_width(xla_flags: str, avx512: bool) -> str:
    """``XLA_FLAGS`` with :data:`VECTOR_WIDTH_FLAG` appended on AVX-512 processors, unless the flags
    already choose a vector width."""
    if not avx512 or "xla_cpu_prefer_vector_width" in xla_flags:
        return xla_flags
    return (xla_flags + " " + VECTOR_WIDTH_FLAG).strip()
