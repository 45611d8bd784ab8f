"""512-bit vectors in XLA's CPU code on AVX-512 processors (jaxthermo/_runtime.py, set at import).

The policy is checked where it takes effect: each case runs in a fresh subprocess that imports
jaxthermo, compiles a small program and dumps XLA's debug options, which name the vector width XLA
used (the file lists the options that differ from XLA's defaults; 256 is the default).
"""

import pytest

from jaxthermo._runtime import VECTOR_WIDTH_FLAG, cpu_has_avx512, cpuinfo_has_avx512, with_vector_width
from tests.helpers import fresh_python

CPUINFO_AVX512 = (
    "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512dq\n\nprocessor\t: 1\nflags\t\t: fpu sse2 avx2 avx512f\n"
)
CPUINFO_AVX2 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"


def test_cpuinfo_parsing():
    assert cpuinfo_has_avx512(CPUINFO_AVX512)
    assert not cpuinfo_has_avx512(CPUINFO_AVX2)
    assert not cpuinfo_has_avx512(CPUINFO_AVX512 + CPUINFO_AVX2)  # every processor must have it
    assert not cpuinfo_has_avx512("")  # no flags line (not Linux x86)


def test_flag_only_when_avx512_and_not_chosen():
    assert with_vector_width("", True) == VECTOR_WIDTH_FLAG
    assert with_vector_width("--xla_foo=1", True) == "--xla_foo=1 " + VECTOR_WIDTH_FLAG
    assert with_vector_width("--xla_foo=1", False) == "--xla_foo=1"
    assert with_vector_width("--xla_cpu_prefer_vector_width=256", True) == "--xla_cpu_prefer_vector_width=256"


CHILD = """
import os, sys{pre}
import jaxthermo, jax, jax.numpy as jnp
jax.jit(lambda x: jnp.exp(x) * x)(jnp.ones(4096)).block_until_ready()
print("XLA_FLAGS=" + os.environ.get("XLA_FLAGS", ""))
"""


def _effective_width(tmp_path, user_flags="", pre=""):
    """(XLA_FLAGS seen by the child after import, vector width in XLA's dumped debug options)."""
    dump = tmp_path / "dump"
    stdout = fresh_python(CHILD.format(pre=pre), {"XLA_FLAGS": f"--xla_dump_to={dump} {user_flags}".strip()})
    flags = stdout.strip().splitlines()[-1].removeprefix("XLA_FLAGS=")
    options = "".join(p.read_text() for p in dump.glob("*.debug_options"))
    assert options or list(dump.iterdir()), "XLA dumped nothing"
    width = 512 if "xla_cpu_prefer_vector_width: 512" in options else 256
    return flags, width


def test_default_import(tmp_path):
    """On an AVX-512 processor the import asks for 512-bit vectors and XLA uses them; elsewhere nothing changes."""
    flags, width = _effective_width(tmp_path)
    if cpu_has_avx512():
        assert VECTOR_WIDTH_FLAG in flags
        assert width == 512
    else:
        assert "prefer_vector_width" not in flags
        assert width == 256


def test_user_choice_is_kept(tmp_path):
    flags, width = _effective_width(tmp_path, "--xla_cpu_prefer_vector_width=256")
    assert VECTOR_WIDTH_FLAG not in flags
    assert width == 256


@pytest.mark.skipif(not cpu_has_avx512(), reason="the flag is only added on AVX-512 processors")
def test_jax_imported_first_still_applies(tmp_path):
    """Importing JAX before jaxthermo is fine as long as its backend has not started."""
    _, width = _effective_width(tmp_path, pre="; import jax")
    assert width == 512


def test_started_backend_is_left_alone(tmp_path):
    """Once JAX's CPU backend exists, XLA_FLAGS is not touched (it could no longer take effect)."""
    flags, width = _effective_width(tmp_path, pre="; import jax; jax.devices()")
    assert VECTOR_WIDTH_FLAG not in flags
    assert width == 256
