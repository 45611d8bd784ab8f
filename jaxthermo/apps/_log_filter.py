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

A ``jax.distributed`` run's CPU collectives (gloo) print one line per process and device set to standard
output when they connect, ``[Gloo] Rank 0 is connected to 3 peer ranks. Expected number of connected peer
ranks is : 3`` (four lines per process for two processes of two devices each, among the command's results);
:func:`drop_gloo_messages` routes descriptor 1 the same way and drops exactly these lines.
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
# gloo's line on connecting a process's collectives (standard output)
GLOO_CONNECTED = re.compile(
    rb"\[Gloo\] Rank \d+ is connected to \d+ peer ranks\. Expected number of connected peer ranks is : \d+\n"
)


def _open_line(tokens):
    """A line still being written at the end of the bytes read so far: any beginning of the head ``tokens``
    (regular expressions, one character each) or the whole head and more, without the newline (held until
    it ends)."""
    pattern = rb"[^\n]*"
    for token in reversed(tokens[1:]):
        pattern = rb"(?:" + token + pattern + rb")?"
    return re.compile(tokens[0] + pattern + rb"\Z")


# a glog head ``E1202 03:41:31``, gloo's ``[Gloo] ``
_OPEN_LINE = _open_line([rb"[IWEF]"] + [rb"\d"] * 4 + [rb" "] + [rb"\d", rb"\d", rb":"] * 2 + [rb"\d", rb"\d"])
_OPEN_GLOO_LINE = _open_line([re.escape(bytes([c])) for c in b"[Gloo] "])
# a held partial line is passed on after this long without more bytes (seconds)
_HOLD = 0.05

_installed = set()  # the descriptors filtered in this process


def filter_chunk(held: bytes, data: bytes, spurious=SPURIOUS, open_line=_OPEN_LINE) -> tuple[bytes, bytes]:
    """(bytes to write now, bytes to hold) after ``data`` arrived behind the ``held`` ones: the
    ``spurious`` lines dropped, an unfinished line that may become one (``open_line``) held back."""
    text = spurious.sub(b"", held + data)
    m = open_line.search(text)
    return (text[: m.start()], text[m.start() :]) if m else (text, b"")


def _pump(read_fd: int, write_fd: int, spurious, open_line) -> None:
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
        out, held = filter_chunk(held, data, spurious, open_line)
        if out:
            os.write(write_fd, out)
    if held:
        os.write(write_fd, held)


def drop_cache_load_messages() -> bool:
    """Filter standard error for the rest of the process (see the module docstring); True where
    installed (once per process; not on Windows or where descriptor 2 cannot be duplicated)."""
    return _drop_lines(2, SPURIOUS, _OPEN_LINE)


def drop_gloo_messages() -> bool:
    """Filter standard output for the rest of the process: gloo's connection lines dropped (module
    docstring); True where installed (once per process; POSIX only)."""
    return _drop_lines(1, GLOO_CONNECTED, _OPEN_GLOO_LINE)


def _drop_lines(fd: int, spurious, open_line) -> bool:
    """Route descriptor ``fd`` (1 or 2) through a pipe and a thread that drops the ``spurious`` lines; Python's
    own ``sys.stdout``/``sys.stderr`` keeps writing to the original file directly."""
    if fd in _installed or os.name != "posix":
        return fd in _installed
    name = {1: "stdout", 2: "stderr"}[fd]
    python_stream = getattr(sys, name)
    try:
        python_stream.flush()
        original = os.dup(fd)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, fd)
        os.close(write_fd)
    except (OSError, ValueError):
        return False
    pump = threading.Thread(
        target=_pump, args=(read_fd, original, spurious, open_line), name=f"jaxthermo-{name}", daemon=True
    )
    pump.start()
    # Python's own stream keeps writing to the terminal itself (progress bars size themselves from
    # it; a pipe has no size), the C++ writers' descriptor goes through the pump
    line_buffered = getattr(python_stream, "line_buffering", False) or fd == 2
    setattr(
        sys,
        name,
        open(
            os.dup(original),
            "w",
            buffering=1 if line_buffered else -1,
            encoding=python_stream.encoding,
            errors=python_stream.errors,
        ),
    )

    def restore():
        for stream in (getattr(sys, name), python_stream):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os.dup2(original, fd)  # the pipe's last writer closes: the pump drains it and stops
        pump.join(timeout=5)

    atexit.register(restore)
    _installed.add(fd)
    return True
