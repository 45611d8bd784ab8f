"""A checkpoint of a different run is refused naming what differs (docs/ensemble.md §4).

Before, one catch-all message ("parameters, seed, precision, statistics or histogram edges
differ; … resumes with dtype=jnp.float64") whatever differed, Python advice included.
"""

import numpy as np
import pytest

import jaxthermo as jt
from jaxthermo.ensemble._files import Checkpoint, CheckpointMismatch, run_identity


def _model(**kw):
    return jt.InhomogeneousReservoir(2, 1.0, kw.pop("g0", 1.0), 0.1, distribution=jt.Gaussian(0.05), **kw)


def test_recorded_identity_names_each_difference(tmp_path):
    path = str(tmp_path / "ck.npz")
    rho0 = np.eye(4) / 4
    mine = run_identity(model=_model(), seed=1, rho0=rho0, dtype="float64")
    assert mine["model.g0"] == "1.0" and mine["model.distribution"] == "Gaussian" and mine["seed"] == "1"
    assert mine["rho0"].startswith("float64[4, 4] sha256 ")  # a large array by digest
    small = run_identity(rho0=np.diag([0.75, 0.25]).astype(complex), theta=np.array([0.1, 0.2]))
    assert small == {"rho0": str(np.diag([0.75, 0.25]).astype(complex).tolist()), "theta": "[0.1, 0.2]"}
    with Checkpoint(path, "fingerprint-1", 10, 5, identity=mine) as ck:
        ck.save(5, {})
    other = run_identity(model=_model(g0=2.0), seed=2, rho0=rho0, dtype="float64")
    with Checkpoint(path, "fingerprint-2", 10, 5, identity=other) as ck, pytest.raises(CheckpointMismatch) as err:
        ck.load()
    assert err.value.differences == {"model.g0": ("2.0", "1.0"), "seed": ("2", "1")}
    assert "model.g0: 2.0 here, 1.0 in the checkpoint; seed: 2 here, 1 in the checkpoint" in str(err.value)
    assert "jnp" not in str(err.value)
    with Checkpoint(path, "fingerprint-1", 10, 5, identity=mine) as ck:  # the same run resumes
        assert ck.load()[0] == 5


def test_files_without_a_recorded_identity_still_resume(tmp_path):
    """Checkpoints written before the identity was stored resume as before; a mismatch of such a file
    gives the general message."""
    path = str(tmp_path / "old.npz")
    with Checkpoint(path, "fp", 10, 5) as ck:
        ck.save(5, {})
    with Checkpoint(path, "fp", 10, 5, identity={"seed": "1"}) as ck:
        assert ck.load()[0] == 5
    with Checkpoint(path, "other", 10, 5, identity={"seed": "1"}) as ck, pytest.raises(CheckpointMismatch) as err:
        ck.load()
    assert err.value.differences == {} and "the file does not record which" in str(err.value)


def test_engine_mismatch_in_n_steps_or_alphas_is_named_from_the_shapes(tmp_path):
    """Even without a recorded identity, the statistics' shapes tell N and the number of orders."""
    path = str(tmp_path / "ck.npz")
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    kw = dict(seed=1, progress=False, checkpoint=path, work_range=(-1, 1), collision_work_range=(-1, 1))
    jt.ensemble(_model(), rho0, 3, 64, **kw)
    with pytest.raises(CheckpointMismatch, match=r"\(n_steps: 5 here, 3 in the checkpoint\)") as err:
        jt.ensemble(_model(), rho0, 5, 64, **kw)
    assert err.value.differences == {"n_steps": ("5", "3")}
    # from the shapes, or (once the engine records its identity) the orders themselves
    alphas = r"(number of Rényi orders alphas: 1 here, 2|alphas: \[1.0\] here, \[1.0, inf\]) in the checkpoint"
    with pytest.raises(CheckpointMismatch, match=alphas):
        jt.ensemble(_model(), rho0, 3, 64, alphas=(1.0,), **kw)
    assert jt.ensemble(_model(), rho0, 3, 64, **kw).info["chunks_resumed"] >= 1  # unchanged run resumes


def test_pilot_edges_are_named_only_when_nothing_else_differs(tmp_path):
    """The default histogram edges follow from the parameters and seed (a pilot run): with the seed
    differing they differ too, and naming them would only add noise."""
    path = str(tmp_path / "ck.npz")
    with Checkpoint(path, "fp1", 10, 5, identity={"seed": "1", "work_edges": "a"}) as ck:
        ck.save(5, {})
    with (
        Checkpoint(path, "fp2", 10, 5, identity={"seed": "2", "work_edges": "b"}) as ck,
        pytest.raises(CheckpointMismatch) as err,
    ):
        ck.load()
    assert err.value.differences == {"seed": ("2", "1")}
    with (
        Checkpoint(path, "fp3", 10, 5, identity={"seed": "1", "work_edges": "c"}) as ck,
        pytest.raises(
            CheckpointMismatch,
            match=r"\(work_edges: c here, a in the checkpoint\); the default edges come from a pilot",
        ),
    ):
        ck.load()


def test_precision_difference_is_not_drowned_in_rounding(tmp_path):
    """A float32 run against a float64 checkpoint: its parameters, cast to float32, differ in their
    last digits; only the precision is named, with the advice for a float32 rho0."""
    path = str(tmp_path / "ck.npz")
    theta32 = str(np.float32(0.2).item())  # what a float32 run records: 0.20000000298023224
    with Checkpoint(path, "fp1", 10, 5, identity={"dtype": "float64", "model.theta": "[0.2]", "seed": "1"}) as ck:
        ck.save(5, {})
    here = {"dtype": "float32", "model.theta": f"[{theta32}]", "seed": "1"}
    with Checkpoint(path, "fp2", 10, 5, identity=here) as ck, pytest.raises(CheckpointMismatch) as err:
        ck.load()
    assert err.value.differences == {"dtype": ("float32", "float64")}
    assert "precision follows rho0's" in str(err.value) and "dtype=jnp.float64" in str(err.value)


def test_engine_records_its_run_and_names_seed_and_model_differences(tmp_path):
    """jt.ensemble now passes its run identity to the checkpoint: another seed or another g0 is named
    (before: the catch-all 'parameters, seed, precision, … differ' with Python advice)."""
    import jaxthermo as jt

    path = tmp_path / "run.npz"
    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.1, distribution=jt.Gaussian(0.05))
    rho0 = jt.thermal_state(2, 1.0, 1.0)
    jt.ensemble(model, rho0, 4, 64, seed=1, checkpoint=path)
    with pytest.raises(CheckpointMismatch, match=r"\(seed: 2 here, 1 in the checkpoint\)"):
        jt.ensemble(model, rho0, 4, 64, seed=2, checkpoint=path)
    with pytest.raises(CheckpointMismatch, match=r"model\.g0: \[1\.5\] here, \[1\.0\] in the checkpoint"):
        jt.ensemble(model.replace(g0=1.5), rho0, 4, 64, seed=1, checkpoint=path)
    assert jt.ensemble(model, rho0, 4, 64, seed=1, checkpoint=path).n_configs == 64  # the same run resumes


def test_engine_refuses_a_law_that_overflows_the_run_precision():
    """A float32 run of Gaussian(1e39) (finite in float64) computed NaN everywhere; now a ValueError naming
    g0 and the law before anything runs (float32's largest number is 3.4e38)."""
    import jax.numpy as jnp

    import jaxthermo as jt

    model = jt.InhomogeneousReservoir(2, beta=1.0, g0=1.0, theta=0.1, distribution=jt.Gaussian(1e39))
    with pytest.raises(ValueError, match=r"g0=1 with Gaussian sigma .* overflows float32"):
        jt.ensemble(model, jt.thermal_state(2, 1.0, 1.0).astype(jnp.float32), 4, 64)
