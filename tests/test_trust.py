"""Bad input is refused at construction naming the parameter (a TypeError for a wrong type), a
physically unusual input warns, and the silent cases of issue-level audits raise."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxthermo as jt

BAD_TYPES = [None, "0.1", b"1", True, {"a": 1}, ["x"]]


@pytest.mark.parametrize("bad", BAD_TYPES + [object()], ids=[repr(b) for b in BAD_TYPES] + ["object()"])
def test_wrong_types_name_the_parameter(bad):
    cases = [
        (lambda: jt.Gaussian(bad), "sigma"),
        (lambda: jt.Uniform(bad), "width"),
        (lambda: jt.TwoPoint(bad), "delta"),
        (lambda: jt.Empirical(bad), "samples"),
        (lambda: jt.InhomogeneousReservoir(2, bad, 1.0, 0.1), "beta"),
        (lambda: jt.InhomogeneousReservoir(2, 1.0, bad, 0.1), "g0"),
        (lambda: jt.InhomogeneousReservoir(2, 1.0, 1.0, bad), "theta"),
        (lambda: jt.qubit_example().replace(beta=bad), "beta"),
        (lambda: jt.qubit_example().replace(beta=bad, lam=100), "beta"),
        (lambda: jt.qubit_example().replace(lam=bad), "lam"),
        (lambda: jt.qubit_example().replace(H_S=bad), "H_S"),
        (lambda: jt.GlobalModel(bad, jnp.zeros((4, 4)), jnp.eye(2)), "h_system"),
        (lambda: jt.QuadraticReservoirs(jnp.eye(2), jnp.eye(2), jnp.zeros((2, 2)), beta1=bad), "beta1"),
    ]
    for make, name in cases:
        with pytest.raises(TypeError, match=name):
            make()


def test_complex_where_real_is_needed():
    with pytest.raises(TypeError, match="sigma must be real"):
        jt.Gaussian(0.1 + 0.1j)
    with pytest.raises(TypeError, match="tau"):
        jt.qubit_example().replace(tau=1j)


def test_multispecies_refuses_non_models():
    with pytest.raises(TypeError, match="species"):
        jt.MultiSpeciesModel((jt.qubit_example(), "x"))
    with pytest.raises(TypeError, match="species"):
        jt.MultiSpeciesModel(None)


def test_transformations_still_work_on_checked_pytrees():
    model = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, distribution=jt.Gaussian(0.05))
    # JAX rebuilds pytrees with placeholders, tracers and stacked leaves: no constructor check runs
    assert jax.tree.map(lambda x: None, model).beta is None
    stacked = jax.tree.map(lambda *x: jnp.stack(x), model, model)
    assert stacked.beta.shape == (2,)
    betas = jax.vmap(lambda b: jt.InhomogeneousReservoir(2, b, 1.0, 0.1).beta * 2)(jnp.ones(3))
    np.testing.assert_array_equal(betas, 2 * np.ones(3))
    g = jax.grad(lambda s: jt.Gaussian(s).variance)(0.3)
    np.testing.assert_allclose(g, 0.6)
    leaves, treedef = jax.tree.flatten(jt.qubit_example())
    back = jax.tree.unflatten(treedef, leaves)
    assert isinstance(back, jt.CoherentCollisionModel)
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(model)[0]]
    assert ".beta" in paths and ".distribution.sigma" in paths


def test_warnings_outside_the_assumptions():
    with pytest.warns(UserWarning, match="beta"):
        jt.InhomogeneousReservoir(2, -1.0, 1.0, 0.1)
    with pytest.warns(UserWarning, match="g0"):
        jt.InhomogeneousReservoir(2, 1.0, -1.0, 0.1)
    with pytest.warns(UserWarning, match="negative"):
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, kind="temperature", distribution=jt.Uniform(4.0))
    with pytest.warns(UserWarning, match="negative"):
        jt.InhomogeneousReservoir(
            2, 1.0, 1.0, 0.1, kind="temperature", distribution=jt.Empirical(np.array([-1.5, 0.0]))
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, kind="temperature", distribution=jt.Uniform(1.0))
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.1, kind="hamiltonian", distribution=jt.Uniform(4.0))


def test_batched_lambda_error_reports_the_offending_eigenvalue():
    model = jt.qubit_example()
    lo, hi = (float(x) for x in jt.coherent.allowed_lambda_range(model))
    lams = jnp.array([0.0, 0.5 * hi, 3 * hi])
    w_bad = float(
        np.linalg.eigvalsh(
            np.asarray(jt.coherent.ancilla_state(model.replace(lam=0.0)))
            + 3 * hi * np.sqrt(float(model.tau)) * np.asarray(model.chi)
        )[0]
    )
    assert w_bad < 0
    with pytest.raises(ValueError, match=f"smallest eigenvalue {w_bad:.3g}"):
        model.replace(lam=lams)


def test_petz_at_infinity_is_refused():
    rho = jnp.eye(2) / 2
    with pytest.raises(ValueError, match="alpha=inf"):
        jt.petz_renyi_divergence(rho, rho, float("inf"))
    assert np.isfinite(jt.quantum_renyi_divergence(rho, rho, float("inf")))


def test_model_c_silent_cases():
    gm = jt.GlobalModel(jnp.diag(jnp.array([0.0, 1.0])), 0.1 * jnp.eye(4), jnp.diag(jnp.array([0.0, 1.0])))
    with pytest.raises(ValueError, match="times"):
        jt.energy_assignment(gm, jnp.eye(2) / 2, jnp.array([0.0, jnp.nan]))
    driven = gm.replace(drive=lambda t: jnp.sin(t) * jnp.diag(jnp.array([0.0, 1.0])))
    for bad in (0, -2):
        with pytest.raises(ValueError, match="substeps"):
            jt.energy_assignment(driven, jnp.eye(2) / 2, jnp.linspace(0.0, 1.0, 3), substeps=bad)


def test_analytic_densities_warn_far_outside_their_validity():
    rho = jnp.diag(jnp.array([0.7, 0.3]))
    far = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=jt.Gaussian(2.0))
    with pytest.warns(UserWarning, match="outside its validity"):
        jt.inhomogeneous.work_density(far, rho, jnp.linspace(-0.1, 0.5, 5))
    with pytest.warns(UserWarning, match="outside its validity"):
        jt.inhomogeneous.heat_density(far, rho, jnp.linspace(-0.1, 0.5, 5))
    near = far.replace(distribution=jt.Gaussian(0.05))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jt.inhomogeneous.work_density(near, rho, jnp.linspace(-0.1, 0.5, 5))
        jax.jit(lambda s: jt.inhomogeneous.work_density(far.replace(distribution=jt.Gaussian(s)), rho, 0.1))(2.0)


def test_non_unique_steady_state_is_an_error():
    zero = jt.qubit_example(g=0.0)  # V = 0: 𝓛 = −i[H_S, ·], every energy eigenstate is stationary
    lv = np.asarray(jt.liouvillian(zero))
    assert lv.shape[0] - np.linalg.matrix_rank(lv) == 2  # independent route: a two-dimensional kernel
    with pytest.raises(ValueError, match="model: the steady state is not unique"):
        jt.steady_state(zero)
    batch = jt.qubit_example().replace(V=jnp.stack([jt.qubit_example().V, zero.V]))
    with pytest.raises(ValueError, match="not unique"):
        jt.steady_state(batch)
    weak = jt.qubit_example(g=1e-3, lam=0.0)  # unique, if ill-conditioned: accepted, and stationary
    rho = np.asarray(jt.steady_state(weak))
    np.testing.assert_allclose(np.asarray(jt.liouvillian(weak)) @ rho.reshape(4), 0.0, atol=1e-12)
    with jt.config.override(validate="always"):
        with pytest.raises(Exception, match="steady state is not unique") as info:
            jax.block_until_ready(jax.jit(lambda m: jt.steady_state(m))(zero))
        assert isinstance(info.value, (ValueError, jax.errors.JaxRuntimeError))
    # "eager" does not look inside jit, and "off" does not check at all: the NaN of the singular solve
    assert np.all(np.isnan(np.asarray(jax.jit(lambda m: jt.steady_state(m))(zero))))
    with jt.config.override(validate="off"):
        assert np.all(np.isnan(np.asarray(jt.steady_state(zero))))


def test_validate_off_skips_value_checks_never_type_checks(monkeypatch):
    not_hermitian = jnp.array([[0.5, 0.3], [0.0, 0.5]])
    with pytest.raises(ValueError, match="rho is not Hermitian"):
        jt.von_neumann_entropy(not_hermitian)
    with pytest.raises(ValueError, match="H_S is not Hermitian"):
        jt.qubit_example().replace(H_S=not_hermitian)
    with pytest.raises(ValueError, match="lam"):
        jt.qubit_example().replace(lam=1e3)

    def refuse(*args, **kwargs):
        raise AssertionError("an eigendecomposition ran under validate='off'")

    with jt.config.override(validate="off"):
        assert np.isfinite(jt.von_neumann_entropy(not_hermitian))
        jt.relative_entropy(not_hermitian, jnp.eye(2) / 2)
        with monkeypatch.context() as patch:  # no constructor decomposes a matrix
            for name in ("eigh", "eigvalsh"):
                patch.setattr(np.linalg, name, refuse)
            jt.qubit_example().replace(H_S=not_hermitian, lam=1e3)
            jt.GlobalModel(not_hermitian, jnp.eye(4), jnp.eye(2))
        # types, shapes and dimensions are still checked
        with pytest.raises(TypeError, match="beta"):
            jt.qubit_example().replace(beta=None)
        with pytest.raises(TypeError, match="sigma"):
            jt.Gaussian("0.1")
        with pytest.raises(ValueError, match="H_S must be a square matrix"):
            jt.qubit_example().replace(H_S=jnp.ones((2, 3)))
        with pytest.raises(ValueError, match="rho0 must be one state"):
            jt.propagate(jt.qubit_example(), jnp.stack([jnp.eye(2) / 2] * 3), jnp.linspace(0, 1, 3))


@pytest.mark.parametrize(
    "content, reason",
    [
        (np.array([[0.5, 0.3], [0.0, 0.5]]), "not Hermitian"),
        (np.eye(2), "unit trace"),
        (np.diag([1.5, -0.5]), "not positive semidefinite: smallest eigenvalue -0.5"),
        (np.eye(3) / 3, r"shape \(3, 3\); d = 2 needs \(2, 2\)"),
        (np.array([[np.nan, 0.0], [0.0, 0.5]]), "NaN"),
        (np.array([["a", "b"], ["c", "d"]]), "dtype"),
        (np.array([[object(), 1], [1, 1]], dtype=object), "cannot be read"),
        ("npz", "several arrays"),
        ("garbage", "cannot be read"),
        ("missing", "cannot be read"),
    ],
    ids=["non-hermitian", "trace", "negative", "shape", "nan", "strings", "pickled", "npz", "garbage", "missing"],
)
def test_study_initial_state_file_is_checked(tmp_path, content, reason):
    from jaxthermo.apps.config import ConfigError
    from jaxthermo.apps.study import build_initial_state

    path = tmp_path / "rho0.npy"
    if isinstance(content, np.ndarray):
        np.save(path, content, allow_pickle=True)
    elif content == "npz":
        path = tmp_path / "rho0.npz"
        np.savez(path, a=np.eye(2) / 2, b=np.eye(2) / 2)
    elif content == "garbage":
        path.write_bytes(b"\x93NUMPY garbage")
    cfg = {"initial_state": {"name": "file", "file": str(path)}, "model": {"d": 2}}
    with pytest.raises(ConfigError, match=rf"\[initial_state\] file = '{path}': .*{reason}"):
        build_initial_state(cfg)
    good = np.array([[0.7, 0.2j], [-0.2j, 0.3]])
    np.save(tmp_path / "good.npy", good)
    cfg["initial_state"]["file"] = str(tmp_path / "good.npy")
    np.testing.assert_array_equal(build_initial_state(cfg), good)
