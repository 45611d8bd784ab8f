"""Files that cannot fail silently: result and checkpoint files carry a format version and a
checksum, a damaged or foreign file is refused naming it and never overwritten, writers of one
path are serialised (results) or refused (checkpoints), and the path is checked before any work."""

import dataclasses
import os
import pathlib
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import zipfile

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble import FileFormatError, FileInUseError, _files

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARGS = dict(n_steps=6, n_configs=90, seed=3, chunk_size=20, alphas=(1.0,))  # 5 chunks
RHO0 = np.diag([0.8, 0.2])


def _model():
    return jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))


@pytest.fixture(scope="module")
def result():
    return jt.ensemble(_model(), RHO0, 4, 30, seed=1, alphas=(1.0,))


def _same(a, b):
    """Every array field of the two results equal, of one type, dtype and shape (a field that was a NumPy scalar
    fresh and a 0-d array after loading, stderr_exp_minus_beta_work, differed)."""
    arrays = 0
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, (np.ndarray, np.generic)):
            assert (type(x), x.dtype, x.shape) == (type(y), y.dtype, y.shape), field.name
            np.testing.assert_array_equal(x, y, err_msg=field.name)
            arrays += 1
    assert arrays >= 20


def test_extension_agrees_and_header_is_written(tmp_path, result):
    written = jt.save_result(tmp_path / "x", result)
    assert written == str(tmp_path / "x.npz")
    _same(jt.load_result(tmp_path / "x"), result)
    _same(jt.load_result(tmp_path / "x.npz"), result)
    with np.load(written, allow_pickle=False) as z:
        assert str(z["__format__"]) == "jaxthermo-result" and int(z["__version__"]) == _files.FORMAT_VERSION
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # no temporary file left


def test_corrupted_truncated_and_foreign_files_name_the_file(tmp_path, result):
    good = pathlib.Path(jt.save_result(tmp_path / "r.npz", result))
    data = good.read_bytes()
    rng = np.random.default_rng(0)
    # single-byte corruptions all over the file: each is refused naming the file, or (a byte of zip
    # metadata nobody reads, e.g. a timestamp) loads the identical result; nothing loads altered, and every
    # corruption of an entry's stored bytes (its .npy header and data: about 2/3 of this file) is refused
    stored = []
    with zipfile.ZipFile(good) as z:
        for info in z.infolist():  # the local header: 30 bytes, then the name and extra field (lengths at 26, 28)
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            stored.append((start, start + info.compress_size))
    refused = in_stored = 0
    for pos in rng.choice(len(data), 300, replace=False):
        inside = any(a <= pos < b for a, b in stored)
        in_stored += inside
        bad = bytearray(data)
        bad[pos] ^= 0xFF
        path = tmp_path / "c.npz"
        path.write_bytes(bytes(bad))
        try:
            back = jt.load_result(path)
        except FileFormatError as exc:
            assert "c.npz" in str(exc)
            refused += 1
        else:
            assert not inside, f"a corrupted byte at {pos}, inside an entry's stored bytes, loaded"
            for f in ("mean_state", "mean_work", "var_divergence", "alphas"):
                np.testing.assert_array_equal(getattr(back, f), getattr(result, f))
            assert back.info.keys() == result.info.keys()
    assert in_stored > 150 and refused >= in_stored
    for name, content in [("empty.npz", b""), ("trunc.npz", data[: len(data) // 2]), ("garbage.npz", b"garbage" * 50)]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FileFormatError, match=name):
            jt.load_result(tmp_path / name)
    np.savez(tmp_path / "foreign.npz", a=np.ones(3))
    with pytest.raises(FileFormatError, match="foreign.npz.*not a jaxthermo"):
        jt.load_result(tmp_path / "foreign.npz")
    np.save(tmp_path / "bare.npy", np.ones(3))
    os.replace(tmp_path / "bare.npy", tmp_path / "bare.npz")
    with pytest.raises(FileFormatError, match="bare.npz"):
        jt.load_result(tmp_path / "bare.npz")
    with pytest.raises(FileFormatError, match="not a jaxthermo result"):  # a sweep is not a result
        sw_path = tmp_path / "sw.npz"
        _files._write(sw_path, _files.SWEEP, {"axes": np.asarray("[]")})
        jt.load_result(sw_path)
    # a foreign file is never overwritten by save_result
    before = (tmp_path / "foreign.npz").read_bytes()
    with pytest.raises(FileFormatError, match="not overwritten"):
        jt.save_result(tmp_path / "foreign.npz", result)
    assert (tmp_path / "foreign.npz").read_bytes() == before


def _rewrite(path, **changes):
    """Rewrite a result file with entries changed and a valid checksum (a consistent-looking file)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("__")}
    arrays.update(changes)
    _files._write(path, _files.RESULT, arrays)


def test_inconsistent_contents_are_refused(tmp_path, result):
    path = jt.save_result(tmp_path / "r", result)
    for change, match in [
        (dict(mean_work=result.mean_work[:2]), "mean_work"),
        (dict(n_configs=np.asarray(-5)), "n_configs"),
        (dict(n_configs=np.asarray(31)), "work_histogram"),
        (dict(n_steps=np.asarray(2.5)), "n_steps"),
    ]:
        jt.save_result(path, result)
        _rewrite(path, **change)
        with pytest.raises(FileFormatError, match=match):
            jt.load_result(path)


def test_sweep_files(tmp_path):
    sw = jt.sweep(_model(), RHO0, 3, 20, grid={"theta": [0.1, 0.3]}, alphas=())
    path = jt.save_sweep(tmp_path / "s", sw)
    back = jt.load_sweep(tmp_path / "s")
    assert back.shape == (2,)
    _same(back.results[1], sw.results[1])
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("__")}
    arrays["n_points"] = np.asarray(3)
    _files._write(path, _files.SWEEP, arrays)
    with pytest.raises(FileFormatError, match="grid points"):
        jt.load_sweep(path)
    with pytest.raises(FileFormatError, match="not a jaxthermo sweep"):
        jt.load_sweep(jt.save_result(tmp_path / "r", back.results[0]))


def test_concurrent_writers_are_serialised(tmp_path, result):
    path = tmp_path / "r.npz"
    errors = []

    def write():
        try:
            for _ in range(5):
                jt.save_result(path, result)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _same(jt.load_result(path), result)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_second_run_on_a_checkpoint_is_refused(tmp_path):
    ckpt = tmp_path / "run.npz"
    lock = _files.lock_for(ckpt)
    lock.acquire()  # another run holds the checkpoint
    try:
        with pytest.raises(FileInUseError, match="run.npz"):
            jt.ensemble(_model(), RHO0, checkpoint=ckpt, **ARGS)
    finally:
        lock.release()
    jt.ensemble(_model(), RHO0, checkpoint=ckpt, **ARGS)  # free again


CONCURRENT = textwrap.dedent(
    f"""
    import sys, time
    import numpy as np
    import jaxthermo as jt
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))
    try:
        jt.ensemble(model, np.diag([0.8, 0.2]), checkpoint=sys.argv[1], callback=lambda c, n: time.sleep(0.3), **{ARGS!r})
        print("finished", flush=True)
    except Exception as exc:
        print(type(exc).__name__, flush=True)
    """
)


def test_two_processes_on_one_checkpoint_are_never_mixed(tmp_path):
    ckpt = tmp_path / "run.npz"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(ckpt)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = sorted(p.communicate(timeout=300)[0].strip() for p in procs)
    # either both finished one after the other (the second resumed a complete file) or one was refused
    assert outs in (["FileInUseError", "finished"], ["finished", "finished"]), outs
    fresh = jt.ensemble(_model(), RHO0, **ARGS)
    _same(jt.ensemble(_model(), RHO0, checkpoint=ckpt, **ARGS), fresh)


def test_damaged_checkpoint_is_refused_and_kept(tmp_path):
    ckpt = tmp_path / "run.npz"
    jt.ensemble(_model(), RHO0, checkpoint=ckpt, **dict(ARGS, n_configs=40))  # 2 chunks of 20
    data = ckpt.read_bytes()
    with np.load(ckpt, allow_pickle=False) as z:  # a byte inside the stored mean work
        pos = data.index(z["work.Moments.mean"].tobytes()) + 3
    flipped = data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]
    for k, damaged in enumerate([data[: len(data) // 3], b"", flipped]):
        ckpt.write_bytes(damaged)
        with pytest.raises(FileFormatError, match="run.npz"):
            jt.ensemble(_model(), RHO0, checkpoint=ckpt, **dict(ARGS, n_configs=40))
        assert ckpt.read_bytes() == damaged, k  # never overwritten
    # a checksummed file with a statistic missing, or a chunk count out of range
    ckpt.write_bytes(data)
    with np.load(ckpt, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("__")}
    missing = {k: v for k, v in arrays.items() if not k.startswith("work.")}
    _files._write(ckpt, _files.CHECKPOINT, missing)
    with pytest.raises(FileFormatError, match="missing"):
        jt.ensemble(_model(), RHO0, checkpoint=ckpt, **dict(ARGS, n_configs=40))
    _files._write(ckpt, _files.CHECKPOINT, dict(arrays, chunks_done=np.asarray(7)))
    with pytest.raises(FileFormatError, match="chunks_done=7"):
        jt.ensemble(_model(), RHO0, checkpoint=ckpt, **dict(ARGS, n_configs=40))
    np.savez(ckpt, a=np.ones(2))  # a foreign .npz
    with pytest.raises(FileFormatError, match="not a jaxthermo checkpoint"):
        jt.ensemble(_model(), RHO0, checkpoint=ckpt, **dict(ARGS, n_configs=40))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_fails_before_any_chunk(tmp_path, result):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    computed = []
    try:
        with pytest.raises(PermissionError, match="not writable"):
            jt.ensemble(_model(), RHO0, checkpoint=ro / "run.npz", callback=lambda c, n: computed.append(c), **ARGS)
        with pytest.raises(PermissionError, match="not writable"):
            jt.save_result(ro / "r", result)
    finally:
        ro.chmod(0o700)
    assert computed == []


def test_missing_directory_and_read_only_files_fail_before_any_chunk(tmp_path, result):
    computed = []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        jt.ensemble(
            _model(), RHO0, checkpoint=tmp_path / "no" / "run.npz", callback=lambda c, n: computed.append(c), **ARGS
        )
    ckpt = tmp_path / "run.npz"
    jt.ensemble(_model(), RHO0, checkpoint=ckpt, **dict(ARGS, n_configs=40))
    ckpt.chmod(0o400)
    before = ckpt.read_bytes()
    with pytest.raises(PermissionError, match="read-only"):
        jt.ensemble(_model(), RHO0, checkpoint=ckpt, callback=lambda c, n: computed.append(c), **ARGS)
    assert computed == [] and ckpt.read_bytes() == before
    path = pathlib.Path(jt.save_result(tmp_path / "r", result))
    path.chmod(0o400)
    with pytest.raises(PermissionError, match="read-only"):
        jt.save_result(path, result)


KILL = textwrap.dedent(
    f"""
    import os, signal, sys
    import numpy as np
    import jaxthermo as jt
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Gaussian(0.1))
    def callback(chunk, done):
        if chunk == 1:
            os.kill(os.getpid(), signal.SIGKILL)
    jt.ensemble(model, np.diag([0.8, 0.2]), checkpoint=sys.argv[1], callback=callback, **{ARGS!r})
    """
)


def test_killed_run_leaves_a_valid_checkpoint_and_a_free_lock(tmp_path):
    ckpt = tmp_path / "run.npz"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", KILL, str(ckpt)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    computed = []
    resumed = jt.ensemble(_model(), RHO0, checkpoint=ckpt, callback=lambda c, n: computed.append(c), **ARGS)
    assert computed == [2, 3, 4]  # the lock died with the process; nothing finished is recomputed
    _same(resumed, jt.ensemble(_model(), RHO0, **ARGS))


def test_silent_engine_inputs_are_refused():
    with pytest.raises(ValueError, match="dtype"):
        jt.ensemble(_model(), RHO0, 3, 10, dtype=np.int32)
    with pytest.raises(TypeError, match="seed"):
        jt.ensemble(_model(), RHO0, 3, 10, seed=1.7)
    with pytest.raises(TypeError, match="n_steps"):
        jt.sweep(_model(), RHO0, 3, 10, grid={"n_steps": [2.7]})


def test_empirical_runs_in_ensemble_and_sweep():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.2, distribution=jt.Empirical(np.array([0.1, -0.1, 0.05])))
    res = jt.ensemble(model, RHO0, 3, 20, alphas=())
    assert res.mean_work.shape == (3,) and np.all(np.isfinite(res.mean_work))
    sw = jt.sweep(model, RHO0, 3, 20, grid={"theta": [0.1, 0.2]}, alphas=())
    assert sw.shape == (2,)


def test_checkpoints_and_saved_results_have_the_permissions_of_the_umask(tmp_path):
    """Files written atomically (checkpoint, save_result) were private (0600, the temporary file's
    mode) beside 0644 files that open() creates under the same umask; now the same mode."""
    import os

    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.1, distribution=jt.Gaussian(0.05))
    old = os.umask(0o022)
    try:
        result = jt.ensemble(model, jt.thermal_state(2, 1.0, 1.0), 3, 16, checkpoint=str(tmp_path / "ck.npz"))
        jt.save_result(str(tmp_path / "res.npz"), result)
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    modes = {name: (tmp_path / name).stat().st_mode & 0o777 for name in ("ck.npz", "res.npz", "plain.txt")}
    assert set(modes.values()) == {0o644}, modes
