"""Model A and the information measures refuse bad input naming the parameter where they computed silently
(a NaN population gave a finite negative Rényi divergence, a user law with a NaN scale NaN means, a (2,) δ a
"state" with an imaginary diagonal), and give the same results as before for good input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxthermo as jt
from tests.inhomogeneous.helpers import Laplace

A = jt.inhomogeneous
RHO = jnp.diag(jnp.array([0.6, 0.4]))
MODEL = jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3)


@pytest.mark.parametrize(
    "p, log_q, match",
    [
        ([np.nan, 0.5], np.log([0.4, 0.6]), "p must be finite"),
        ([1.2, -0.2], np.log([0.4, 0.6]), "p must be non-negative"),
        ([0.5, 0.7], np.log([0.4, 0.6]), "p must sum to one"),
        ([0.5, 0.5], [0.0, 0.0], r"log_q must be normalised.*\[2\.0\]"),
        ([0.5, 0.5], [np.nan, 0.0], "log_q must have no NaN"),
        ([0.5, 0.5], [np.inf, 0.0], r"log_q must have no NaN or \+inf"),
        ([0.5, 0.5], np.log([0.4, 0.3, 0.3]), "p and log_q must have the same dimension"),
    ],
)
def test_renyi_divergence_log_checks_its_distributions(p, log_q, match):
    with pytest.raises(ValueError, match=match):
        jt.renyi_divergence_log(jnp.asarray(p), jnp.asarray(log_q), 2.0)


def test_renyi_divergence_log_of_good_input_is_the_divergence():
    p, q = np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.4, 0.0])
    for alpha in (0.5, 1.0, 2.0, np.inf):
        log_q = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)), -np.inf)
        np.testing.assert_allclose(
            jt.renyi_divergence_log(jnp.asarray(p), jnp.asarray(log_q), alpha),
            jt.renyi_divergence(jnp.asarray(p), jnp.asarray(q), alpha),
            rtol=1e-14,
        )
    # D_2 by hand, q of full support: log Σ p²/q
    q = np.array([0.6, 0.3, 0.1])
    np.testing.assert_allclose(
        jt.renyi_divergence_log(jnp.asarray(p), jnp.log(jnp.asarray(q)), 2.0), np.log(np.sum(p**2 / q)), rtol=1e-14
    )


class NotAPytree(jt.Distribution):
    def sample(self, key, shape=(), dtype=None):
        return jnp.zeros(shape)

    def expectation(self, f, n_nodes=None, kink_at_zero=False):
        return f(jnp.zeros(1))[0]

    variance = 0.0


@pytest.mark.parametrize("scale", [np.nan, np.inf])
def test_a_user_law_with_a_non_finite_scale_is_refused(scale):
    """jt.ensemble returned all-NaN (or inf) means with a user law whose scale was NaN (inf), without a word."""
    with pytest.raises(ValueError, match=r"distribution: Laplace has variance .*finite variance"):
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=Laplace(scale))


def test_a_user_law_that_is_no_pytree_is_refused_at_construction():
    with pytest.raises(TypeError, match="distribution: NotAPytree is not a JAX pytree"):
        jt.InhomogeneousReservoir(2, 1.0, 1.0, 0.3, distribution=NotAPytree())


def test_a_good_user_law_gives_the_mean_work_of_its_density():
    """⟨W⟩ = g0 sin²θ ∫ G(δ) δ (q0(δ) − p0) dδ for a qubit (docs/inhomogeneous.md §6), Laplace G by QUADPACK."""
    scale, theta = 0.1, 0.3
    model = MODEL.replace(distribution=Laplace(scale))
    q0 = lambda d: 1 / (1 + np.exp(-(1 + d)))
    pdf = lambda d: np.exp(-abs(d) / scale) / (2 * scale)
    expected = np.sin(theta) ** 2 * integrate.quad(lambda d: pdf(d) * d * (q0(d) - 0.6), -4, 4, points=[0.0])[0]
    np.testing.assert_allclose(jt.mean_work(model, RHO), expected, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(lambda s: jt.mean_work(MODEL.replace(distribution=Laplace(s)), RHO))(scale),
                               expected, rtol=1e-6)  # fmt: skip


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: A.collide_closed_form(MODEL, RHO, jnp.array([0.1, 0.2])), "delta must be a scalar"),
        (lambda: A.collide_closed_form(MODEL, jnp.array([[np.nan, 0], [0, 0.4]]), 0.1), "rho must be finite"),
        (lambda: A.collide_closed_form(MODEL, jnp.diag(jnp.array([1.2, -0.2])), 0.1), "rho"),
        (lambda: A.collide_closed_form(MODEL, jnp.eye(2), 0.1), "rho"),
        (lambda: A.collide_closed_form(MODEL.replace(coupling=jt.ExactUnitary(1.0)), RHO, 0.1), "no closed form"),
        (lambda: A.collide_generic(MODEL.replace(coupling=jt.ExactUnitary(1.0)), RHO, [0.1, 0.2]), "delta must be"),
        (lambda: jt.ExactUnitary(1.0).unitary(MODEL, 0.3, jnp.array([0.1, 0.2])), "one theta and one delta"),
        (lambda: A.interaction_picture_exact_unitary(MODEL, 1.0, jnp.array([0.1, 0.2])), "one theta and one delta"),
        (lambda: A.reservoir_parameters(MODEL, jnp.nan), "delta must be finite"),
        (lambda: A.reservoir_hamiltonian(MODEL, jnp.inf), "delta must be finite"),
        (lambda: A.reservoir_state(MODEL, jnp.nan), "delta must be finite"),
        (lambda: A.collide_closed_form(MODEL, RHO, jnp.nan), "delta must be finite"),
        (lambda: jt.Gaussian(0.1).sample(jax.random.key(0), (2.5,)), "shape must be a tuple of non-negative"),
        (lambda: jt.Uniform(0.1).sample(jax.random.key(0), (-1,)), "shape must be a tuple of non-negative"),
        (lambda: jt.TwoPoint(0.1).sample(0, (2,)), "key must be a JAX PRNG key"),
    ],
)
def test_model_a_building_blocks_refuse_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_building_blocks_of_good_input_agree_with_collide():
    exact = MODEL.replace(coupling=jt.ExactUnitary(1.0))
    for delta in (0.1, -0.25):
        step = jt.collide(MODEL, RHO, delta)
        closed = A.collide_closed_form(MODEL, RHO, delta)
        np.testing.assert_allclose(closed.state, step.state, atol=1e-15)
        np.testing.assert_allclose(closed.energetics.work, step.energetics.work, atol=1e-16)
        np.testing.assert_allclose(A.collide_generic(MODEL, RHO, delta).system, step.state, atol=1e-14)
        np.testing.assert_allclose(A.collide_generic(exact, RHO, delta).system, jt.collide(exact, RHO, delta).state)
    batched = jax.vmap(lambda d: A.collide_closed_form(MODEL, RHO, d).state)(jnp.array([0.1, -0.25]))
    np.testing.assert_allclose(batched[1], jt.collide(MODEL, RHO, -0.25).state, atol=1e-15)
    assert jt.Gaussian(0.1).sample(jax.random.key(0), 3).shape == (3,)


def test_a_traced_nan_theta_is_stopped_under_validate_always():
    """β and g0 were stopped by staged checks, θ ran through to a NaN state."""
    collide = jax.jit(lambda t: jt.collide(MODEL.replace(theta=t), RHO, 0.1).state)
    with jt.config.override(validate="always"):
        with pytest.raises(Exception, match="model.theta must be finite"):
            jax.block_until_ready(collide(jnp.nan))
        np.testing.assert_allclose(collide(0.3), jt.collide(MODEL, RHO, 0.1).state, atol=1e-15)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: jt.trace_distance(jnp.stack([RHO] * 3), jnp.stack([RHO] * 2)), ValueError, r"batch shapes \(3,\)"),
        (lambda: jt.tensor(jnp.ones((3, 2, 2)), jnp.ones((4, 2, 2))), ValueError, "batch shapes .* do not broadcast"),
        (lambda: jt.populations(jnp.ones(2)), ValueError, r"rho must have shape \(\.\.\., d, d\)"),
        (lambda: jt.dagger(jnp.ones(2)), ValueError, r"dagger: a must have shape"),
        (lambda: jt.load_result(3), TypeError, "path must be a file path"),
        (lambda: jt.Histogram.from_samples(jnp.array([0.1, jnp.inf, 0.3]), bins=4), ValueError, "NaN or ±inf"),
        (
            lambda: jt.frozen_vs_averaged_divergence(
                MODEL.replace(distribution=jt.Gaussian(0.1)), RHO, jax.random.key(0), 8, 3, ()
            ),
            ValueError,
            "alphas: give at least one",
        ),
        (
            lambda: jt.frozen_ensemble_mean(
                MODEL.replace(distribution=jt.Gaussian(0.1)), RHO, jax.random.key(0), 8, 3, observable=3
            ),
            TypeError,
            "observable must be a function",
        ),
    ],
)
def test_shape_and_argument_errors_name_the_parameter(call, error, match):
    """Each failed inside JAX or NumPy ("sub got incompatible shapes for broadcasting", "diagonal requires an array
    of at least two dimensions", "expected str, bytes or os.PathLike object", "need at least one array to stack")."""
    with pytest.raises(error, match=match):
        call()


def test_broadcasting_batches_still_work():
    batch = jnp.stack([RHO, jnp.eye(2) / 2, jnp.diag(jnp.array([0.9, 0.1]))])
    np.testing.assert_allclose(jt.trace_distance(batch, RHO), [0.0, 0.1, 0.3], atol=1e-15)
    np.testing.assert_allclose(jt.tensor(batch, jnp.eye(2))[2], np.kron(np.diag([0.9, 0.1]), np.eye(2)), atol=0)
    hist = jt.Histogram.from_samples(jnp.array([0.1, jnp.inf, 0.3]), bins=4, range=(0.0, 1.0))
    assert (int(np.sum(hist.counts)), hist.underflow, hist.overflow) == (2, 0, 1)


def test_callables_and_superoperator_images_are_named():
    """ "'int' object is not callable" and "cannot reshape array of shape (2, 2, 2) into shape (4, 4)" before."""
    with pytest.raises(TypeError, match="f must be an elementwise function"):
        jt.hermitian_function(3, jnp.eye(2))
    with pytest.raises(TypeError, match="pdf must be the density"):
        A.quadratic_density(A.quadratic_coefficients(MODEL, RHO), 3, 0.1)
    with pytest.raises(ValueError, match=r"linear_map must map a \(2, 2\) matrix to a \(2, 2\) matrix.*\(2,\)"):
        jt.superoperator(lambda x: x[0], 2)
    h = np.diag([0.0, 1.0])  # good input: −i[H, ·] is −i(H ⊗ 1 − 1 ⊗ Hᵀ) in row-major vec
    expected = -1j * (np.kron(h, np.eye(2)) - np.kron(np.eye(2), h.T))
    np.testing.assert_allclose(jt.superoperator(lambda x: -1j * (h @ x - x @ h), 2), expected, atol=0)
    np.testing.assert_allclose(jt.hermitian_function(jnp.exp, jnp.diag(jnp.array([0.0, 1.0]))), np.diag([1, np.e]))
