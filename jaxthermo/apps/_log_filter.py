"""Keep XLA's messages about loading cached programs off a command's terminal (README, "Your own
study without Python").

With the persistent compilation cache on (:mod:`._compilation_cache`), jaxlib 0.9 logs two lines
for every program it loads from disk, about 600 lines for a small study run again on a 2-core AMD
EPYC (Zen 4):

* ``E… cpu_aot_loader.cc:…] Loading XLA:CPU AOT result. Target machine feature +prefer-no-gather is
  not supported on the host machine … This could lead to execution errors such as SIGILL.`` (and
  ``+prefer-no-scatter``): LLVM *tuning* preferences that XLA records among the compile machine's
  features and the loader then looks for among the host's instruction-set features, where they
  never are (jax-ml/jax#38445, openxla/xla#44565). The program is loaded and runs correctly; a
  program compiled for other instructions is never loaded, because JAX's cache key holds the
  device topology, which lists the compile machine's exact features;
* ``W… pjrt_executable.cc:…] Assume version compatibility. PjRt-IFRT does not track XLA executable
  versions.``: the cache key also holds the jax and jaxlib versions.

:func:`drop_cache_load_messages` routes the process's standard error (file descriptor 2, where the
C++ logger writes) through a pipe and a thread that drops exactly these lines and passes
everything else through unchanged and at once (any other XLA message, including a loader mismatch
of a real instruction-set feature); Python's ``sys.stderr`` (progress bars, warnings) writes to the
terminal directly. POSIX only; commands that keep no cache do not install it, nor does importing
jaxthermo.
"""

from __future__ import annotations

import atexit
import os
import re
import select
import sys
import threading

# one glog line: severity, date, time, thread, file:line] message
_PREFIX = rb"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ "
SPURIOUS = re.compile(
    _PREFIX + rb"(?:cpu_aot_loader\.cc:\d+\] Loading XLA:CPU AOT result\. Target machine feature "
    rb"\+prefer-no-(?:gather|scatter) is not\s+supported on the host machine\.[^\n]*"
    rb"|pjrt_executable\.cc:\d+\] Assume version compatibility\. PjRt-IFRT does not track XLA "
    rb"executable versions\.)\n"
)


def _open_line():
    """A glog line still being written at the end of the bytes read so far: any beginning of its
    head ``E1202 03:41:31`` or the whole head and more, without the newline (held until it ends)."""
    tokens = [rb"[IWEF]"] + [rb"\d"] * 4 + [rb" "] + [rb"\d", rb"\d", rb":"] * 2 + [rb"\d", rb"\d"]
    pattern = rb"[^\n]*"
    for token in reversed(tokens[1:]):
        pattern = rb"(?:" + token + pattern + rb")?"
    return re.compile(tokens[0] + pattern + rb"\Z")


_OPEN_LINE = _open_line()
# a held partial line is passed on after this long without more bytes (seconds)
_HOLD = 0.05

_installed = False


def filter_chunk(held: bytes, data: bytes) -> tuple[bytes, bytes]:
    """(bytes to write now, bytes to hold) after ``data`` arrived behind the ``held`` ones: the
    spurious lines dropped, an unfinished glog line at the end held back."""
    text = SPURIOUS.sub(b"", held + data)
    m = _OPEN_LINE.search(text)
    return (text[: m.start()], text[m.start() :]) if m else (text, b"")


def _pump(read_fd: int, write_fd: int) -> None:
    held = b""
    while True:
        ready, _, _ = select.select([read_fd], [], [], _HOLD if held else None)
        if not ready:  # a partial line that stayed partial: not one of ours being written
            os.write(write_fd, held)
            held = b""
            continue
        data = os.read(read_fd, 1 << 16)
        if not data:
            break
        out, held = filter_chunk(held, data)
        if out:
            os.write(write_fd, out)
    if held:
        os.write(write_fd, held)


def drop_cache_load_messages() -> bool:
    """Filter standard error for the rest of the process (see the module docstring); True where
    installed (once per process; not on Windows or where descriptor 2 cannot be duplicated)."""
    global _installed
    if _installed or os.name != "posix":
        return _installed
    try:
        sys.stderr.flush()
        original = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
    except OSError:
        return False
    pump = threading.Thread(target=_pump, args=(read_fd, original), name="jaxthermo-stderr", daemon=True)
    pump.start()
    # Python's own stderr keeps writing to the terminal itself (progress bars size themselves from
    # it; a pipe has no size), the C++ logger's descriptor 2 goes through the pump
    python_stderr = sys.stderr
    sys.stderr = open(os.dup(original), "w", buffering=1, encoding=python_stderr.encoding, errors=python_stderr.errors)

    def restore():
        for stream in (sys.stderr, python_stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os.dup2(original, 2)  # the pipe's last writer closes: the pump drains it and stops
        pump.join(timeout=5)

    atexit.register(restore)
    _installed = True
    return True
