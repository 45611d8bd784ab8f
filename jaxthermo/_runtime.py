"""What the installed jaxlib does that changes how jaxthermo runs (docs/xla_cpu_hangs.md).

jaxlib 0.10.0–0.11.0 split every large batched LAPACK call (LU, eigendecomposition, SVD, ...) over
XLA's CPU intra-op thread pool and block the calling pool thread until the pieces finish; several
such calls in flight at once can deadlock the pool. Earlier releases run each batch inline, and
the upstream fix (jax commit 859992407d) compiles the splitting out of later open-source wheels.
The supported dependency range excludes these releases; for a user who installed one anyway,
jaxthermo applies an XLA scheduler flag at import and keeps multi-device eigendecomposition
batches small (:data:`lapack_splits_batches`).
"""

import re
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
