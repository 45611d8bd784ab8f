"""The command line keeps jaxlib's per-program messages about loading from the compilation cache
off the terminal (jaxthermo/apps/_log_filter.py) and passes everything else through unchanged.

A second run of a study on an AVX-512 AMD EPYC printed ≈ 600 such lines (two per program loaded):
an E-level "… could lead to execution errors such as SIGILL" naming the LLVM tuning flags
+prefer-no-gather/+prefer-no-scatter, and a W-level "Assume version compatibility".
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from jaxthermo.apps._log_filter import filter_chunk

FEATURES = "[+64bit,+avx,+avx512f,+prefer-no-gather,+prefer-no-scatter,+sse4.2]"
HOST = "[64bit,avx,avx512f,sse4.2]"


def _aot(feature, thread=1146):
    """A loader line as jaxlib 0.9.2 writes it (two spaces in "not  supported", as logged)."""
    return (
        f"E1202 03:41:31.545576    {thread} cpu_aot_loader.cc:220] Loading XLA:CPU AOT result. Target machine "
        f"feature +{feature} is not  supported on the host machine. Machine type used for XLA:CPU compilation "
        f"doesn't match the machine type for execution. Compile machine features: {FEATURES} vs host machine "
        f"features: {HOST}. This could lead to execution errors such as SIGILL.\n"
    ).encode()


VERSION = (
    b"W1202 03:43:06.890337    2154 pjrt_executable.cc:642] Assume version compatibility. "
    b"PjRt-IFRT does not track XLA executable versions.\n"
)
SPURIOUS = [_aot("prefer-no-gather"), _aot("prefer-no-scatter"), VERSION]
# what must come through: a mismatch of a real instruction set, other XLA messages, a progress bar
# (carriage returns, no newline), a warning, and a line that merely starts like a log line
KEPT = [
    _aot("avx512f"),
    b"E1202 03:44:00.000001    7 pjrt_client.cc:1] something else went wrong\n",
    b"\rensemble:   0%|          | 0/1500",
    b"\rensemble: 100%|##########| 1500/1500\n",
    b"jaxthermo run: warning: RuntimeWarning: ...\n",
    b"E1202 is how my log line starts\n",
]


def _stream():
    parts = [KEPT[2], SPURIOUS[0], SPURIOUS[1], KEPT[0], VERSION, KEPT[1], KEPT[3], VERSION, KEPT[4], KEPT[5]]
    expected = b"".join(p for p in parts if p not in SPURIOUS)
    return b"".join(parts), expected


def test_only_the_cache_load_messages_are_dropped_at_every_split_of_the_stream():
    stream, expected = _stream()
    for cut in range(len(stream) + 1):  # the pipe may hand over the bytes in any two pieces
        out, held = filter_chunk(b"", stream[:cut])
        rest, held = filter_chunk(held, stream[cut:])
        assert out + rest + held == expected, cut
        assert held == b""


def test_a_partial_progress_bar_is_passed_on_at_once():
    out, held = filter_chunk(b"", b"\rensemble:  42%|####      | 630/1500")
    assert held == b"" and out.endswith(b"630/1500")


def _run(program, env=None):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(program)], capture_output=True, timeout=300, env=env)


@pytest.mark.skipif(os.name != "posix", reason="the filter is POSIX only")
def test_the_process_stderr_is_filtered_for_python_and_c_writers():
    """Lines written to descriptor 2 by Python and by C (libc write, as jaxlib's logger) after the
    filter is installed; a partial log-like line is passed on when no more bytes come."""
    stream, expected = _stream()
    program = f"""
        import ctypes, os, sys, time
        from jaxthermo.apps._log_filter import drop_cache_load_messages
        assert drop_cache_load_messages() and drop_cache_load_messages()  # once per process
        stream = {stream!r}
        half = len(stream) // 2
        os.write(2, stream[:half])
        libc = ctypes.CDLL(None)
        libc.write(2, stream[half:], len(stream) - half)
        os.write(2, b"W1202 03:44:00.0 partial")
        time.sleep(0.3)
        print("after", file=sys.stderr)
    """
    out = _run(program)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    assert out.stderr == expected + b"W1202 03:44:00.0 partialafter\n"


@pytest.mark.skipif(os.name != "posix", reason="the filter is POSIX only")
def test_a_cached_command_prints_none_of_them(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    for key in ("JAX_COMPILATION_CACHE_DIR", "JAXTHERMO_COMPILATION_CACHE"):
        env.pop(key, None)
    args = ["ensemble", "--steps", "4", "--configs", "32", "--no-progress", "--no-plot"]
    command = "import sys; from jaxthermo.apps.cli import main; sys.exit(main(sys.argv[1:]))"
    first = subprocess.run(
        [sys.executable, "-c", command, *args, "--out", str(tmp_path / "a")], env=env, capture_output=True, timeout=600
    )
    assert first.returncode == 0, first.stderr.decode(errors="replace")[-2000:]
    # the same process without the filter: what jaxlib itself prints when it loads the programs
    raw = f"""
        import sys
        from jaxthermo.apps import _log_filter
        _log_filter.drop_cache_load_messages = lambda: False
        from jaxthermo.apps.cli import main
        sys.exit(main({[*args, "--out", str(tmp_path / "b")]!r}))
    """
    unfiltered = _run(raw, env)
    filtered = subprocess.run(
        [sys.executable, "-c", command, *args, "--out", str(tmp_path / "c")], env=env, capture_output=True, timeout=600
    )
    assert unfiltered.returncode == 0 and filtered.returncode == 0, filtered.stderr.decode(errors="replace")[-2000:]
    marks = (b"cpu_aot_loader.cc", b"Assume version compatibility")
    assert not any(m in filtered.stderr for m in marks), filtered.stderr.decode(errors="replace")[:2000]
    if not any(m in unfiltered.stderr for m in marks):
        pytest.skip("this jaxlib/processor logs nothing on loading cached programs")
    assert (tmp_path / "c" / "results.nc").exists() and (tmp_path / "b" / "results.nc").exists()


GLOO = [
    b"[Gloo] Rank 0 is connected to 1 peer ranks. Expected number of connected peer ranks is : 1\n",
    b"[Gloo] Rank 3 is connected to 3 peer ranks. Expected number of connected peer ranks is : 3\n",
]
# what must come through on standard output: results, another gloo line, a line that merely starts like one
GLOO_KEPT = [
    b"wrote run/results.nc\n",
    b"[Gloo] Rank 1 is connected to 1 peer ranks. Expected number of connected peer ranks is : 3 (short)\n",
    b"  <W_N> = 4.943e-05 +- 5e-07 energy\n",
    b"[Gloo] something else\n",
]


def _gloo_stream():
    parts = [GLOO[0], GLOO_KEPT[0], GLOO[1], GLOO_KEPT[1], GLOO[0], GLOO_KEPT[2], GLOO_KEPT[3], GLOO[1]]
    return b"".join(parts), b"".join(p for p in parts if p not in GLOO)


def test_only_gloos_connection_lines_are_dropped_at_every_split_of_the_stream():
    from jaxthermo.apps._log_filter import _OPEN_GLOO_LINE, GLOO_CONNECTED

    stream, expected = _gloo_stream()
    for cut in range(len(stream) + 1):
        out, held = filter_chunk(b"", stream[:cut], GLOO_CONNECTED, _OPEN_GLOO_LINE)
        rest, held = filter_chunk(held, stream[cut:], GLOO_CONNECTED, _OPEN_GLOO_LINE)
        assert out + rest + held == expected, cut
        assert held == b""


@pytest.mark.skipif(os.name != "posix", reason="the filter is POSIX only")
def test_the_process_stdout_is_filtered_for_c_writers_and_python_prints_directly():
    """gloo's lines written to descriptor 1 by C (libc write) after the filter is installed are dropped, the
    rest passes; Python's print goes to the original standard output; a partial gloo-like line is passed on."""
    stream, expected = _gloo_stream()
    program = f"""
        import ctypes, os, sys, time
        from jaxthermo.apps._log_filter import drop_gloo_messages
        print("before", flush=True)
        assert drop_gloo_messages() and drop_gloo_messages()  # once per process
        stream = {stream!r}
        libc = ctypes.CDLL(None)
        libc.write(1, stream, len(stream))
        os.write(1, b"[Gloo] partial")
        time.sleep(0.3)
        print("after")
    """
    out = _run(program)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-2000:]
    assert out.stdout == b"before\n" + expected + b"[Gloo] partialafter\n"
