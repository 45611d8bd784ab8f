"""``jaxthermo run``/``ensemble`` on several processes (hosts, GPUs) through ``jax.distributed``.

``--distributed`` calls ``jax.distributed.initialize()``, which detects the cluster (SLURM, Open MPI,
…); ``--coordinator HOST:PORT --num-processes N --process-id I`` name it where none is detected. The
ensemble engine's mesh then spans every process's devices and only process 0 reads and writes files
(docs/ensemble.md §3–§4): here, the output folder, its checkpoint checks, the outputs and the
progress bar are process 0's. Before computing, every process says whether it refused the run
(:func:`agree`), so that one refusal stops all of them at once instead of leaving the others
waiting in the first collective.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

from . import config as cfgmod

# jax.distributed.initialize's own default wait for every process (initialization_timeout)
DEFAULT_TIMEOUT = 300
# the studies the distributed ensemble engine serves (the others are computed by one process)
STUDIES = ("ensemble", "sweep")
TRIO = ("--coordinator", "--num-processes", "--process-id")


def _address(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: need HOST:PORT, e.g. node01:12345")
    if not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: the port {port} is outside 1 … 65535")
    return text


def _whole(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r}: need a whole number >= {low}")
        return value

    return parse


def add_options(command) -> None:
    """The options of a computing command that run it on several processes."""
    group = command.add_argument_group(
        "several processes (jax.distributed; README, docs/ensemble.md §4)",
        "Start the same command on every process: only process 0 writes. SIGTERM does not stop such a run "
        "(JAX's preemption notifier); a batch system's SIGKILL after it loses only the chunk in flight: "
        "run the same command with --resume.",
    )
    group.add_argument(
        "--distributed",
        action="store_true",
        help="one of several processes started by the cluster (e.g. by srun; one per host or GPU): "
        "JAX detects them (SLURM, Open MPI, ...)",
    )
    group.add_argument(
        "--coordinator", metavar="HOST:PORT", type=_address, help="process 0's host and a free port, outside a cluster"
    )
    group.add_argument(
        "--num-processes", metavar="N", type=_whole(1), help="the number of processes (with --coordinator)"
    )
    group.add_argument("--process-id", metavar="I", type=_whole(0), help="this process, 0 ... N-1 (with --coordinator)")
    group.add_argument(
        "--init-timeout",
        metavar="S",
        type=_whole(1),
        help=f"seconds to wait for every process to connect (default {DEFAULT_TIMEOUT})",
    )


def requested(args, error) -> bool:
    """Whether ``args`` ask for a distributed run; ``error`` (the subcommand's ``parser.error``, exit 2)
    for a partial trio, a process id out of range or ``--init-timeout`` alone."""
    if not hasattr(args, "distributed"):
        return False
    values = (args.coordinator, args.num_processes, args.process_id)
    given = [name for name, value in zip(TRIO, values) if value is not None]
    if given and len(given) < len(TRIO):
        missing = [name for name in TRIO if name not in given]
        error(f"{', '.join(given)} needs {' and '.join(missing)} too (all three together)")
    if given and args.process_id >= args.num_processes:
        error(f"--process-id {args.process_id}: must be below --num-processes {args.num_processes}")
    if args.init_timeout is not None and not (given or args.distributed):
        error("--init-timeout: only with --distributed or --coordinator")
    return bool(given) or args.distributed


class _State:
    active = False  # this process joined a jax.distributed run through initialize()
    agreed = False


def initialize(args, command: str) -> None:
    """``jax.distributed.initialize`` before any JAX computation; gloo for CPU collectives unless the user
    chose an implementation (JAX 0.9.2's own default, so a GPU run's backends are as JAX makes them).
    A ConfigError where JAX detects no cluster; where not every process connects within the timeout,
    one line and exit status 1 (JAX itself aborts the process with a stack trace)."""
    import jax

    if jax.config.jax_cpu_collectives_implementation is None:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    timeout = args.init_timeout or DEFAULT_TIMEOUT
    kw = {}
    if args.coordinator is not None:
        kw = dict(coordinator_address=args.coordinator, num_processes=args.num_processes, process_id=args.process_id)
    where = (
        f"process {args.process_id} of {args.num_processes}, coordinator {args.coordinator}"
        if kw
        else "the coordinator the cluster names"
    )
    watchdog = threading.Timer(timeout, _gave_up, (command, timeout, where))
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(initialization_timeout=timeout + 30, **kw)  # the watchdog speaks first
    except ValueError as err:  # no cluster detected: JAX asks for the coordinator's address
        if kw:
            raise cfgmod.ConfigError(f"--coordinator {args.coordinator}: {err}") from err
        raise cfgmod.ConfigError(
            f"--distributed: JAX detected no cluster (SLURM, Open MPI, ...; {err}); elsewhere give "
            "--coordinator HOST:PORT --num-processes N --process-id I"
        ) from err
    except RuntimeError as err:  # main() called again, or after JAX computed, in one Python process
        raise cfgmod.ConfigError(f"{'--coordinator' if kw else '--distributed'}: {err}") from err
    finally:
        watchdog.cancel()
    _State.active, _State.agreed = True, False


def _gave_up(command, timeout, where):
    print(
        f"jaxthermo {command}: error: the jax.distributed run did not start within {timeout} s ({where}): "
        "the coordinator is unreachable or not every process was started; --init-timeout sets the wait",
        file=sys.stderr,
        flush=True,
    )
    os._exit(1)


def is_distributed() -> bool:
    """Whether this command started jax.distributed (its resume is then a command on every process)."""
    return _State.active


def is_writer() -> bool:
    """True but on the processes other than 0 of a distributed run (they compute and write nothing)."""
    if not _State.active:
        return True
    import jax

    return jax.process_index() == 0


def check_study(cfg, option: str = "--distributed") -> None:
    """A ConfigError for a study the distributed engine does not serve (model B and C scans), naming ``option``."""
    study = cfg["study"]["study"]
    if study not in STUDIES:
        raise cfgmod.ConfigError(
            f"{option}: [study] study = {study!r} runs on one process; the distributed engine serves "
            f"{' and '.join(STUDIES)} (model A); run it without --distributed or --coordinator"
        )


def agree(refused: bool) -> None:
    """Once per distributed run, before computing (``refused=False``) or on a process's way out
    (``refused=True``; no-op once agreed): every process learns whether any refused the run. One that
    did not raises a ConfigError naming those that did (whose own errors say why)."""
    if not _State.active or _State.agreed:
        return
    _State.agreed = True
    import numpy as np
    from jax.experimental import multihost_utils

    flags = np.asarray(multihost_utils.process_allgather(np.int32(refused)))
    if not refused and flags.any():
        who = ", ".join(map(str, np.flatnonzero(flags)))
        raise cfgmod.ConfigError(f"process {who} of this jax.distributed run refused it (see its error); nothing ran")


def share_line() -> str:
    """The one line a process other than 0 prints."""
    import jax

    return f"process {jax.process_index()} of {jax.process_count()}: computing its share; process 0 writes the results"
