"""The ``jaxthermo`` command.

``jaxthermo demo`` (the main job) and ``jaxthermo figures``; ``jaxthermo run study.toml`` (a study
from a TOML file, :mod:`.config`, :mod:`.study`), ``jaxthermo ensemble --d 3 --theta 0.2 …`` (a
quick model-A ensemble through the same path), ``jaxthermo init`` (a commented example config) and
``jaxthermo --version``. Built on the standard library's argparse: the command has five
subcommands with flat options, which argparse covers without a new dependency.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import sys
import threading

from . import _distributed
from ._plotting import MissingPlotDependency, require_matplotlib


def _version() -> str:
    import jax

    import jaxthermo

    return f"jaxthermo {jaxthermo.__version__} (JAX {jax.__version__})"


def _count(text: str) -> int:
    """A positive whole number, also written as 1e6."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value != int(value) or value < 1:  # int(inf), int(nan) raise
        raise argparse.ArgumentTypeError(f"{text!r}: need a positive whole number (e.g. 1000 or 1e6)")
    return int(value)


def _names(text: str) -> list:
    """``theta,sigma`` as ["theta", "sigma"] (checked against the model by the study: [run] wrt); an empty
    ``--wrt ""`` is none, an empty name between commas (``theta,,sigma``, ``,``) a typo, refused."""
    if not text.strip():
        return []
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r}: an empty name; give comma-separated names, e.g. theta,sigma")
    return names


def _orders(text: str) -> list:
    """``1,inf`` as [1.0, inf]: the Rényi orders α of ``--alphas`` (``none`` or an empty text: no divergences)."""
    if text.strip().lower() in ("", "none"):
        return []
    orders = []
    for part in text.split(","):
        try:
            orders.append(float(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: {part.strip()!r} is not a number; e.g. 0.5,1,2,inf") from None
    return orders


def _as_option_names(listed: str) -> str:
    """The names of a [run] wrt message's ``["theta", "foo"]`` as ``--wrt`` takes them: ``theta,foo`` (``none``)."""
    return ",".join(re.findall(r'"([^"]*)"', listed)) or "none"


def _parser() -> argparse.ArgumentParser:
    from .figures import DEFAULT_OUT as FIGURES_OUT
    from .figures import FIGURES as FIGURE_NAMES

    parser = _Parser(prog="jaxthermo", description="Quantum thermodynamics of collisional models.")
    parser.add_argument("--version", action="store_true", help="print the versions of jaxthermo and JAX and exit")
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="model-A ensemble on the embedded default; prints a table, writes a plot")
    demo.add_argument("--out", default="demo-output", help="directory for the PNG and CSV (default: demo-output)")
    demo.add_argument(
        "--configs", type=_count, default=10_000, help="number of reservoir configurations, e.g. 1e4 (default 10000)"
    )
    demo.add_argument("--steps", type=_count, default=100, help="collisions per configuration N (default 100)")
    demo.add_argument("--seed", type=int, default=0, help="integer seed of the configurations (default 0)")

    figures = sub.add_parser(
        "figures",
        help="regenerate every figure of the model-A papers (PNG + CSV)",
        description="Preprint Figs. 1-2 and published Figs. 1-5 of model A: NAME.png and NAME.csv (long format: "
        "panel, series, x, y) per figure; about 30 s of CPU time for all.",
    )
    figures.add_argument("--out", default=FIGURES_OUT, help=f"output directory (default: {FIGURES_OUT})")
    figures.add_argument("--only", default=None, help=f"comma-separated figure names of: {', '.join(FIGURE_NAMES)}")
    figures.add_argument(
        "--quick", action="store_true", help="fewer points and Monte-Carlo samples: a check in seconds per figure"
    )

    run = sub.add_parser("run", help="run the study of a TOML file (see `jaxthermo init`)")
    run.add_argument("config", help="the study's TOML file")
    run.add_argument("--out", default=None, help="output folder (overrides [study] out)")
    _checkpoint_options(run, "a killed ensemble or sweep")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--no-plot", action="store_true", help="skip summary.png (no matplotlib needed)")
    _distributed.add_options(run)

    ens = sub.add_parser("ensemble", help="quick model-A ensemble from options (same outputs as `run`)")
    ens.add_argument("--d", type=int, default=2, help="qudit dimension (default 2)")
    ens.add_argument("--theta", type=float, default=0.1, help="mixing angle θ (default 0.1)")
    ens.add_argument(
        "--distribution",
        default="gaussian",
        choices=("gaussian", "uniform", "two_point"),
        help="law G(δ) of the inhomogeneity (default gaussian)",
    )
    ens.add_argument("--sigma", type=float, help="σ of the gaussian G(δ) (default 0.05)")
    ens.add_argument("--width", type=float, help="full width of the uniform G(δ) on [−width/2, width/2] (default 0.1)")
    ens.add_argument("--delta", type=float, help="two_point G(δ): δ = ±delta with probability 1/2 (default 0.05)")
    ens.add_argument("--beta", type=float, default=1.0, help="reservoir β (default 1)")
    ens.add_argument("--g0", type=float, default=1.0, help="level spacing g0 (default 1)")
    ens.add_argument(
        "--kind",
        default="hamiltonian",
        choices=("hamiltonian", "temperature"),
        help="which reservoir parameter δ perturbs: level spacing g0(1+δ) or β(1+δ) (default hamiltonian)",
    )
    ens.add_argument(
        "--rho0",
        default="thermal",
        choices=("thermal", "ground", "excited"),
        help="initial state: thermal at the reservoir's β and g0, the ground level |0⟩⟨0| or the highest "
        "level |d−1⟩⟨d−1| (default thermal)",
    )
    ens.add_argument("--steps", type=_count, default=100, help="collisions N (default 100)")
    ens.add_argument("--configs", type=_count, default=10_000, help="configurations, e.g. 1e6 (default 1e4)")
    ens.add_argument("--seed", type=int, default=0, help="integer seed of the configurations (default 0)")
    ens.add_argument(
        "--wrt",
        type=_names,
        default=[],
        help="derivatives of the mean statistics with respect to these comma-separated parameters, e.g. theta,sigma "
        "(theta, beta, g0, the law's sigma, width or delta, deltas; default none)",
    )
    ens.add_argument(
        "--alphas",
        type=_orders,
        default=None,
        help="Rényi orders α of the divergences D_α(ρ‖τ_S), comma-separated, inf and -inf allowed (α ≥ 0 for a coherent ρ0) "
        "(default 1,inf; none: no divergences, the fastest run)",
    )
    ens.add_argument(
        "--dtype",
        default="float64",
        choices=("float64", "float32"),
        help="precision (default float64; float32 for throughput: README, Precision)",
    )
    ens.add_argument("--out", default="ensemble-output", help="output folder (default ensemble-output)")
    _checkpoint_options(ens, "a killed run")
    ens.add_argument("--no-progress", action="store_true", help="no progress bar")
    ens.add_argument("--no-plot", action="store_true", help="skip summary.png (no matplotlib needed)")
    _distributed.add_options(ens)

    init = sub.add_parser("init", help="write a commented example study (study.toml)")
    init.add_argument("path", nargs="?", default="study.toml", help="the file to write (default: study.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.subcommands = sub.choices  # main() reports an unknown option with its subcommand's usage
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse's parser (and its subcommands') whose errors are one line naming the command and its --help,
    as every other error (README): argparse printed the command's whole usage, 12 lines, before it."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (`{self.prog} --help` lists the options)\n")


def _checkpoint_options(command, what):
    """--resume and --restart: what to do with the finished chunks of an earlier run in the output folder
    (without either, a run refuses a checkpoint that holds some; nothing finished is deleted unasked)."""
    group = command.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help=f"continue {what} from its checkpoint")
    group.add_argument(
        "--restart",
        action="store_true",
        help="discard the finished chunks of an earlier run in the output folder and start again "
        "(without --resume or --restart, a run refuses them)",
    )


def _prepare(plot: bool):
    from .study import require_io

    require_io()
    if plot:
        require_matplotlib()


# the options of `jaxthermo ensemble` and the configuration keys they fill (its messages name the option)
ENSEMBLE_OPTIONS = {
    "[model], [distribution], [run]": "--d, --theta, --sigma, --beta, --g0, --kind, --steps",
    "[model], [distribution]": "--d, --theta, --sigma, --beta, --g0, --kind",
    "[model] d": "--d",
    "[model] theta": "--theta",
    "[model] beta": "--beta",
    "[model] g0": "--g0",
    "[model] kind": "--kind",
    "[distribution] name": "--distribution",
    "[distribution] sigma": "--sigma",
    "[distribution] width": "--width",
    "[distribution] delta": "--delta",
    "[run] n_steps": "--steps",
    "[run] n_configs": "--configs",
    "[run] wrt": "--wrt",
    "[run] alphas": "--alphas",
    "[run] dtype": "--dtype",
    "[study] seed": "--seed",
    "[study] out": "--out",
    "[initial_state]": "--rho0",
}


def _as_options(message: str) -> str:
    """A configuration error of `jaxthermo ensemble` in terms of the options the user typed: the
    configuration key it starts with, and those it names further on (a checkpoint of a run with other
    settings names each one that differs)."""
    for key, option in ENSEMBLE_OPTIONS.items():
        if message.startswith(key):
            message = option + message[len(key) :]
            break
    for key, option in ENSEMBLE_OPTIONS.items():
        message = message.replace(f"({key}:", f"({option}:").replace(f"; {key}:", f"; {option}:")
    # --wrt = ["theta", "foo"] → --wrt theta,foo; --wrt: [] here, ["theta"] in the checkpoint → none, theta
    names = r'\[((?:"[^"]*"(?:, )?)*)\]'
    message = re.sub(rf"^--wrt = {names}", lambda m: f"--wrt {_as_option_names(m.group(1))}", message)
    if message.startswith(("--sigma", "--width", "--delta")):  # a parameter of another law
        message = re.sub(r"name = '(\w+)'", r"--distribution \1", message)
    message = re.sub(
        r"^--alphas = \[([^\]]*)\]", lambda m: f"--alphas {m.group(1).replace(', ', ',') or 'none'}", message
    )
    return re.sub(
        rf"--wrt: {names} here, {names} in the checkpoint",
        lambda m: f"--wrt: {_as_option_names(m.group(1))} here, {_as_option_names(m.group(2))} in the checkpoint",
        message,
    )


def _run_config(raw: dict, args, command: str) -> int:
    from .config import ConfigError, resolve
    from .study import checkpoint_paths, resume_lines, run_study

    cfg = None
    try:
        cfg = resolve(raw)
        if _distributed.is_distributed():
            _distributed.check_study(cfg)
        _prepare(not args.no_plot)
        writer = _distributed.is_writer()  # only process 0 of a distributed run checks and writes files
        for line in resume_lines(cfg, cfg["study"]["out"]) if args.resume and writer else ():
            print(f"jaxthermo {command}: {line}")
        progress = not args.no_progress and writer
        run_study(cfg, progress=progress, resume=args.resume, restart=args.restart, plot=not args.no_plot)
    except ConfigError as err:
        message = str(err)
        if command == "ensemble":
            message = _as_options(message)
        elif args.out is not None and message.startswith("[study] out"):  # the value came from --out
            message = "--out" + message[len("[study] out") :]
        print(f"jaxthermo {command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        paths = checkpoint_paths(cfg, cfg["study"]["out"]) if cfg else []
        kept = [p for p in paths if os.path.exists(p)]
        if getattr(err, "results_written", None) is not None:  # after the last chunk: the outputs were finished
            what = f"every configuration was finished and the results are written in {err.results_written}"
        elif paths and not _distributed.is_writer():  # its files, if any, are process 0's (maybe on another host)
            what = (
                f"process 0 keeps the finished chunks in its {' and '.join(paths)}; run the same command on every "
                "process with --resume to continue"
            )
        elif kept:  # process 0 of a distributed run names the resume on every process, as the others do
            resume = f"run the same command{' on every process' if _distributed.is_distributed() else ''} with --resume"
            if len(kept) == 1:
                what = (
                    f"the finished chunks{_finished_configs(kept[0], cfg)} are kept in {kept[0]}; {resume} to continue"
                )
            else:  # a sweep over several n_steps: one checkpoint per N
                files = ", ".join(f"{p}{_finished_configs(p, cfg)}" for p in kept)
                what = f"the finished chunks are kept in {files}; {resume} to continue"
        else:
            what = "no results were written (earlier results in the output folder are unchanged)"
        print(f"\njaxthermo {command}: {_stopped(err)}; {what}", file=sys.stderr)
        return _interrupted_status(err)
    return 0


def _finished_configs(checkpoint, cfg) -> str:
    """ " (N of M configurations)" held by a checkpoint, or "" when the file cannot tell."""
    import numpy as np

    try:
        with np.load(checkpoint, allow_pickle=False) as f:
            done = int(f["configs_done"])
        return f" ({done} of {int(cfg['run']['n_configs'])} configurations)"
    except Exception:  # an older or damaged file: the message stays without the count
        return ""


class Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM handler of :func:`main`: a ``kill`` (a batch system's time limit) is
    handled as Ctrl-C, so a run ends saying which finished chunks are on disk and how to resume."""

    signum = signal.SIGTERM


def _stopped(err) -> str:
    return "terminated (SIGTERM)" if isinstance(err, Terminated) else "interrupted"


def _interrupted_status(err) -> int:
    """The shell's status of a process ended by the signal: 128 + its number (130 SIGINT, 143 SIGTERM)."""
    return 128 + int(err.signum) if isinstance(err, Terminated) else 130


@contextlib.contextmanager
def _signals_as_interrupts(command):
    """While a command runs (in the main thread): SIGTERM raises :class:`Terminated`, a
    KeyboardInterrupt (Python's default ended the process at once, without a word: the finished chunks
    of a checkpointed ensemble were on disk, but nothing said so or how to resume); and SIGTERM or
    SIGINT during a checkpointed ensemble or sweep first lets the running chunk finish and be saved (a second
    signal stops at once), so that no computed chunk is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from .study import defer_interrupt

    def handler(signum, frame):
        err = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        waiting_for = defer_interrupt(err)
        if waiting_for:
            name = "SIGTERM" if signum == signal.SIGTERM else "interrupt"
            print(
                f"\njaxthermo {command}: {name} received; stopping once {waiting_for} (send it again to stop at once)",
                file=sys.stderr,
                flush=True,
            )
            return
        raise err

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _out_of_memory(err) -> bool:
    return isinstance(err, MemoryError) or "RESOURCE_EXHAUSTED" in str(err)


def _show_warning(command):
    """Warnings of the library as one line naming the command (no Python file and line number)."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"jaxthermo {command}: warning: {message}", file=sys.stderr if file is None else file)

    return show


def main(argv=None) -> int:
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # argparse's parse_args reported them with the top-level usage, not the subcommand's
        command = parser.subcommands.get(args.command, parser)
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.version:
        print(_version())
        return 0
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("jaxthermo: error: give a command (demo, figures, run, ensemble, init) or --version", file=sys.stderr)
        return 2
    import warnings

    distributed = _distributed.requested(args, parser.subcommands[args.command].error)
    if distributed:  # before JAX computes anything (the compilation cache below only sets options)
        from .config import ConfigError

        try:
            if args.command == "run":  # before initialize, which waits for every process: a scan waited in vain
                option = "--coordinator" if args.coordinator is not None else "--distributed"
                _distributed.check_study({"study": {"study": _study_kind(args.config)}}, option)
            _distributed.initialize(args, args.command)
        except ConfigError as err:
            print(f"jaxthermo {args.command}: error: {err}", file=sys.stderr)
            return 2
        from ._log_filter import drop_gloo_messages

        drop_gloo_messages()  # the CPU collectives' "[Gloo] Rank 0 is connected to …" lines, off the results
    if args.command != "init":  # the commands that compute: keep their compiled programs on disk
        from ._compilation_cache import use_compilation_cache
        from ._log_filter import drop_cache_load_messages

        if use_compilation_cache() is not None:
            drop_cache_load_messages()  # jaxlib's two log lines per program loaded from the cache
    # jax.distributed: SIGTERM is left to JAX's preemption notifier (the run goes on; README)
    signals = contextlib.nullcontext() if distributed else _signals_as_interrupts(args.command)
    status = 1
    with warnings.catch_warnings(), signals:
        warnings.showwarning = _show_warning(args.command)
        try:
            status = _command(args)
            return status
        except KeyboardInterrupt as err:
            print(f"\njaxthermo {args.command}: {_stopped(err)}", file=sys.stderr)
            return _interrupted_status(err)
        except Exception as err:
            if not _out_of_memory(err):
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            print(f"jaxthermo {args.command}: error: out of memory ({first}); {_memory_advice(args)}", file=sys.stderr)
            return 1
        finally:
            if distributed:  # a process that stops before computing tells the others (no-op once agreed)
                _distributed.agree(refused=status != 0)


# what to shrink after an out-of-memory error, by study (model C named model A's settings)
MEMORY_ADVICE = {
    "coherent_scan": "choose fewer [scan] points",
    "assignment_scan": "choose fewer modes [assignment] n1, n2, fewer time points n_times or fewer [scan] points",
}


def _memory_advice(args) -> str:
    study = _study_kind(args.config) if args.command == "run" else "ensemble"
    return MEMORY_ADVICE.get(study, "choose a smaller qudit dimension d, chunk_size, number of collisions or grid")


def _study_kind(path) -> str:
    """``[study] study`` of a study file, read without resolving it (nor starting JAX); ``"ensemble"`` (the
    default) where the file or the key cannot be read: the run's own checks name what is wrong."""
    from .config import ConfigError
    from .study import load_toml

    try:
        table = load_toml(path).get("study", {})
    except ConfigError:
        return "ensemble"
    study = table.get("study", "ensemble") if isinstance(table, dict) else "ensemble"
    return study if isinstance(study, str) else "ensemble"


def _command(args) -> int:
    from .config import ConfigError

    try:
        if args.command in ("demo", "figures"):
            require_matplotlib()  # both commands plot: say so before minutes of computing
        if args.command == "demo":
            from .demo import run_demo

            try:
                return run_demo(out=args.out, n_configs=args.configs, n_steps=args.steps, seed=args.seed)
            except ConfigError as err:
                print(f"jaxthermo demo: error: {str(err).replace('output folder', '--out', 1)}", file=sys.stderr)
                return 2
        if args.command == "figures":
            from .figures import figure_names
            from .figures import main as figures_main

            try:
                figure_names(args.only)
                return figures_main(out=args.out, only=args.only, quick=args.quick)
            except ValueError as err:  # ConfigError included
                print(f"jaxthermo figures: error: {str(err).replace('output folder', '--out', 1)}", file=sys.stderr)
                return 2
        if args.command == "init":
            from .config import example

            if os.path.isdir(args.path):
                print(f"jaxthermo init: error: {args.path} is a folder; give a file name", file=sys.stderr)
                return 2
            if os.path.exists(args.path) and not args.force:
                print(f"jaxthermo init: {args.path} exists; use --force to overwrite", file=sys.stderr)
                return 1
            try:
                with open(args.path, "w", encoding="utf-8") as fh:
                    fh.write(example())
            except OSError as err:  # a missing or read-only folder: a traceback before
                print(f"jaxthermo init: error: cannot write {args.path} ({err.strerror or err})", file=sys.stderr)
                return 2
            print(f"wrote {args.path}; run it with: jaxthermo run {args.path}")
            return 0
        if args.command == "run":
            from .study import load_toml

            try:
                raw = load_toml(args.config)
            except (ConfigError, OSError) as err:
                print(f"jaxthermo run: error: {err}", file=sys.stderr)
                return 2
            if args.out is not None and isinstance(raw.get("study", {}), dict):  # else resolve says what is wrong
                raw.setdefault("study", {})["out"] = args.out
            return _run_config(raw, args, "run")
        if args.command == "ensemble":
            raw = {
                "study": {"study": "ensemble", "out": args.out, "seed": args.seed},
                "model": {"d": args.d, "beta": args.beta, "g0": args.g0, "theta": args.theta, "kind": args.kind},
                "distribution": {"name": args.distribution},
                "initial_state": {"name": args.rho0},
                "run": {"n_steps": args.steps, "n_configs": args.configs, "wrt": args.wrt, "dtype": args.dtype},
            }
            for key in ("sigma", "width", "delta"):  # the law's own parameter; another is refused by name
                if getattr(args, key) is not None:
                    raw["distribution"][key] = getattr(args, key)
            if args.alphas is not None:
                raw["run"]["alphas"] = args.alphas
            return _run_config(raw, args, "ensemble")
    except (MissingPlotDependency, ImportError) as err:
        print(f"jaxthermo {args.command}: {err}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
