"""Tests of dlbook.optim: oracle tests against torch.optim on random problems, the
chapter's worked example (values computed by hand, not by the code under test), and bad
input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlbook import optim

TOL = 1e-10


# -- random test problems --------------------------------------------------------------
def random_problem(seed: int, dim: int):
    """A smooth, non-quadratic loss:

        L(x) = 1/2 (x - c)^T A (x - c) + sum(log cosh(C x - d)) / dim

    A has eigenvalues spread over [0.02, 1] (so learning rates up to 0.1 are stable even
    with momentum), and the start x0 lies about 30 away from c in every coordinate. The
    adaptive methods move roughly lr per coordinate per step, so in 150 steps they are
    still travelling: the comparison with torch is not made inside the noise ball around
    a minimum. There the step g / sqrt(v) divides one vanishing number by another, so
    two implementations whose last bits of rounding differ (operation order, fused
    multiply-add) part ways after enough steps; RMSProp with a short memory does so
    within 150 steps. Returns (grad, x0)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    A = (Q * np.geomspace(0.02, 1.0, dim)) @ Q.T
    c = rng.normal(size=dim)
    C = rng.normal(size=(dim, dim))
    d = rng.normal(size=dim)

    def grad(x):
        return A @ (x - c) + C.T @ np.tanh(C @ x - d) / dim

    x0 = c + 30 * rng.choice([-1.0, 1.0], size=dim) * rng.uniform(0.8, 1.2, size=dim)
    return grad, x0


def torch_iterates(make_optimizer, grad, x0, steps):
    """Iterates of a torch.optim optimizer fed the same NumPy gradients (float64)."""
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([p])
    out = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


CASES = [(seed, dim) for seed, dim in zip(range(8), [1, 2, 3, 5, 10, 17, 50, 2])]


def hyper(seed):
    """Random hyper-parameters for one case."""
    rng = np.random.default_rng(1000 + seed)
    return {
        "lr": float(rng.uniform(0.005, 0.05)),  # AdaGrad gets 10x this
        "beta": float(rng.uniform(0.5, 0.95)),
        "wd": float(rng.choice([0.0, rng.uniform(0.01, 0.2)])),
        "alpha": float(rng.uniform(0.8, 0.999)),
        "eps": float(rng.choice([1e-8, 1e-6, 1e-3])),
        "betas": (float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999))),
    }


# each entry: (ours, torch's), both built from the hyper-parameter dict h
PAIRS = {
    "SGD": (
        lambda h: optim.SGD(h["lr"], weight_decay=h["wd"]),
        lambda h: lambda p: torch.optim.SGD(p, lr=h["lr"], weight_decay=h["wd"]),
    ),
    "Momentum": (
        lambda h: optim.Momentum(h["lr"], beta=h["beta"], weight_decay=h["wd"]),
        lambda h: (
            lambda p: torch.optim.SGD(
                p, lr=h["lr"], momentum=h["beta"], weight_decay=h["wd"]
            )
        ),
    ),
    "Nesterov": (
        lambda h: optim.Nesterov(h["lr"], beta=h["beta"], weight_decay=h["wd"]),
        lambda h: (
            lambda p: torch.optim.SGD(
                p, lr=h["lr"], momentum=h["beta"], nesterov=True, weight_decay=h["wd"]
            )
        ),
    ),
    "AdaGrad": (
        lambda h: optim.AdaGrad(10 * h["lr"], eps=h["eps"], weight_decay=h["wd"]),
        lambda h: (
            lambda p: torch.optim.Adagrad(
                p, lr=10 * h["lr"], eps=h["eps"], weight_decay=h["wd"]
            )
        ),
    ),
    "RMSProp": (
        lambda h: optim.RMSProp(
            h["lr"], alpha=h["alpha"], eps=h["eps"], weight_decay=h["wd"]
        ),
        lambda h: (
            lambda p: torch.optim.RMSprop(
                p, lr=h["lr"], alpha=h["alpha"], eps=h["eps"], weight_decay=h["wd"]
            )
        ),
    ),
    "Adam": (
        lambda h: optim.Adam(
            h["lr"], betas=h["betas"], eps=h["eps"], weight_decay=h["wd"]
        ),
        lambda h: (
            lambda p: torch.optim.Adam(
                p, lr=h["lr"], betas=h["betas"], eps=h["eps"], weight_decay=h["wd"]
            )
        ),
    ),
    "AdamW": (
        lambda h: optim.AdamW(
            h["lr"], betas=h["betas"], eps=h["eps"], weight_decay=h["wd"]
        ),
        lambda h: (
            lambda p: torch.optim.AdamW(
                p, lr=h["lr"], betas=h["betas"], eps=h["eps"], weight_decay=h["wd"]
            )
        ),
    ),
}


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("seed,dim", CASES)
def test_same_steps_as_torch(name, seed, dim):
    grad, x0 = random_problem(seed, dim)
    h = hyper(seed)
    ours_factory, torch_factory = PAIRS[name]
    steps = 150
    ours = optim.optimize(ours_factory(h), grad, x0, steps)
    theirs = torch_iterates(torch_factory(h), grad, x0, steps)
    assert ours.shape == theirs.shape == (steps + 1, dim)
    assert np.max(np.abs(ours - theirs)) <= TOL
    # the run must actually move, or the comparison would prove nothing
    assert np.linalg.norm(ours[-1] - ours[0]) > 1e-2


@pytest.mark.parametrize("name", ["Momentum", "Adam", "AdamW"])
def test_same_steps_as_torch_with_default_hyper_parameters(name):
    grad, x0 = random_problem(42, 6)
    ours = {
        "Momentum": optim.Momentum(0.01),
        "Adam": optim.Adam(),
        "AdamW": optim.AdamW(),
    }[name]
    theirs = {
        "Momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
        "Adam": lambda p: torch.optim.Adam(p),
        "AdamW": lambda p: torch.optim.AdamW(p),
    }[name]
    assert (
        np.max(
            np.abs(
                optim.optimize(ours, grad, x0, 200)
                - torch_iterates(theirs, grad, x0, 200)
            )
        )
        <= TOL
    )


def test_defaults_match_torch():
    for ours, theirs in [
        (optim.AdaGrad(), torch.optim.Adagrad),
        (optim.RMSProp(), torch.optim.RMSprop),
        (optim.Adam(), torch.optim.Adam),
        (optim.AdamW(), torch.optim.AdamW),
    ]:
        defaults = theirs([torch.zeros(1, requires_grad=True)]).defaults
        assert ours.lr == defaults["lr"]
        assert ours.eps == defaults["eps"]
        assert ours.weight_decay == defaults["weight_decay"]
    assert (
        optim.RMSProp().alpha
        == torch.optim.RMSprop([torch.zeros(1, requires_grad=True)]).defaults["alpha"]
    )


@pytest.mark.parametrize("seed,dim", CASES)
def test_gradient_descent_matches_torch_sgd(seed, dim):
    grad, x0 = random_problem(seed, dim)
    ours = optim.gradient_descent(grad, x0, 0.02, 120)
    theirs = torch_iterates(lambda p: torch.optim.SGD(p, lr=0.02), grad, x0, 120)
    assert ours.shape == (121, dim)
    assert np.max(np.abs(ours - theirs)) <= TOL


def test_optimizer_can_be_reused_after_reset():
    grad, x0 = random_problem(3, 4)
    adam = optim.Adam(0.05)
    first = optim.optimize(adam, grad, x0, 50)
    second = optim.optimize(adam, grad, x0, 50)  # optimize resets the state
    np.testing.assert_array_equal(first, second)


def test_optimize_does_not_modify_x0():
    grad, x0 = random_problem(4, 3)
    kept = x0.copy()
    optim.optimize(optim.Nesterov(0.01), grad, x0, 10)
    optim.gradient_descent(grad, x0, 0.01, 10)
    np.testing.assert_array_equal(x0, kept)


# -- the chapter's worked example (expected values worked out by hand) -----------------
def lecture_grad(p):
    x, y = p
    return np.array([2 * x + 2, 2 * y - 2])


def lecture_loss(p):
    x, y = p
    return x**2 + y**2 + 2 * x - 2 * y


def test_worked_example_table():
    path = optim.gradient_descent(lecture_grad, [2.0, 2.0], 0.1, 100)
    assert path.shape == (101, 2)
    # row 0: (2, 2), g = 6, h = 2, L = 8
    np.testing.assert_allclose(path[0], [2, 2])
    np.testing.assert_allclose(lecture_grad(path[0]), [6, 2])
    assert lecture_loss(path[0]) == pytest.approx(8)
    # row 1: (1.4, 1.8), g = 2(1.4) + 2 = 4.8 (the lecture's 5.6 is the erratum),
    # h = 1.6, L = 4.4
    np.testing.assert_allclose(path[1], [1.4, 1.8], atol=1e-12)
    np.testing.assert_allclose(lecture_grad(path[1]), [4.8, 1.6], atol=1e-12)
    assert lecture_loss(path[1]) == pytest.approx(4.4, abs=1e-12)
    # row 2: (1.4 - 0.48, 1.8 - 0.16) = (0.92, 1.64),
    # L = 0.8464 + 2.6896 + 1.84 - 3.28 = 2.096
    np.testing.assert_allclose(path[2], [0.92, 1.64], atol=1e-12)
    assert lecture_loss(path[2]) == pytest.approx(2.096, abs=1e-12)
    # closed form: x_t + 1 = 3 (0.8)^t, y_t - 1 = (0.8)^t; the limit is (-1, 1), L = -2
    t = np.arange(101)
    np.testing.assert_allclose(path[:, 0], -1 + 3 * 0.8**t, atol=1e-12)
    np.testing.assert_allclose(path[:, 1], 1 + 0.8**t, atol=1e-12)
    assert lecture_loss(path[-1]) == pytest.approx(-2, abs=1e-18 + 1e-15)


def test_learning_rate_regimes_on_the_worked_example():
    # H = 2I, so x_{t+1} - x* = (1 - 2 alpha)(x_t - x*)
    one_step = optim.gradient_descent(lecture_grad, [2.0, 2.0], 0.5, 1)
    np.testing.assert_allclose(one_step[1], [-1, 1], atol=1e-15)
    bouncing = optim.gradient_descent(lecture_grad, [2.0, 2.0], 1.0, 6)
    np.testing.assert_allclose(
        bouncing[1::2], [[-4, 0]] * 3
    )  # (2,2) -> (-4,0) -> (2,2) ...
    np.testing.assert_allclose(bouncing[0::2], [[2, 2]] * 4)
    diverging = optim.gradient_descent(lecture_grad, [2.0, 2.0], 1.1, 20)
    distance = np.linalg.norm(diverging - [-1, 1], axis=1)
    np.testing.assert_allclose(distance[1:] / distance[:-1], 1.2)


def test_gradient_descent_accepts_scalar_start():
    path = optim.gradient_descent(lambda x: 2 * x, 1.0, 0.25, 3)  # x <- x/2
    np.testing.assert_allclose(path, [[1.0], [0.5], [0.25], [0.125]])
    assert optim.gradient_descent(lambda x: 2 * x, [1.0], 0.25, 0).shape == (1, 1)


# -- exact line search on quadratics ---------------------------------------------------
def random_spd(rng, dim, kappa):
    Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    eigenvalues = np.geomspace(1, kappa, dim)
    return (Q * eigenvalues) @ Q.T


@pytest.mark.parametrize("seed", range(5))
def test_exact_line_search_minimises_along_the_line(seed):
    rng = np.random.default_rng(seed)
    dim = [2, 3, 5, 8, 20][seed]
    A = random_spd(rng, dim, 30.0)
    b = rng.normal(size=dim)
    x0 = rng.normal(size=dim)
    path = optim.exact_line_search(A, b, x0, 30)

    def loss(x):
        return 0.5 * x @ A @ x + b @ x

    for x, x_next in zip(path[:3], path[1:4]):
        g = A @ x + b
        # the new gradient is orthogonal to the search direction (the 1-D derivative
        # is 0)
        assert abs((A @ x_next + b) @ g) <= 1e-9 * (g @ g)
        # and no step length on a fine grid does better
        etas = np.linspace(0, 2, 20001)
        best_on_grid = min(loss(x - eta * g) for eta in etas)
        assert loss(x_next) <= best_on_grid + 1e-12
    # it converges to the solution of A x = -b (torch as the oracle for the solve)
    x_star = torch.linalg.solve(torch.tensor(A), -torch.tensor(b)).numpy()
    far = optim.exact_line_search(A, b, x0, 3000)[-1]
    np.testing.assert_allclose(far, x_star, atol=1e-8)


@pytest.mark.parametrize("kappa", [1.5, 4.0, 10.0, 100.0])
def test_exact_line_search_rate_bound(kappa):
    rng = np.random.default_rng(int(kappa))
    mu = ((kappa - 1) / (kappa + 1)) ** 2
    A = random_spd(rng, 10, kappa)
    path = optim.exact_line_search(A, np.zeros(10), rng.normal(size=10), 40)
    excess = 0.5 * np.einsum("ti,ij,tj->t", path, A, path)  # L - L* with x* = 0
    assert np.all(excess[1:] <= mu * excess[:-1] * (1 + 1e-9))
    # the worst start, x0 = (1/lambda_min, 1/lambda_max) on diag(1, kappa), meets the
    # bound exactly
    A2 = np.diag([1.0, kappa])
    worst = optim.exact_line_search(A2, np.zeros(2), [kappa, 1.0], 10)
    excess2 = 0.5 * np.einsum("ti,ij,tj->t", worst, A2, worst)
    np.testing.assert_allclose(excess2[1:] / excess2[:-1], mu, rtol=1e-9)
    assert optim.quadratic_rate(kappa) == pytest.approx(mu)


def test_quadratic_rate_values():
    assert optim.quadratic_rate(1) == 0
    assert optim.quadratic_rate(3) == pytest.approx(0.25)
    assert optim.quadratic_rate(9) == pytest.approx(0.64)


# -- Newton ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_newton_one_step_on_a_quadratic(seed):
    rng = np.random.default_rng(seed)
    dim = [1, 2, 5, 12][seed]
    A = random_spd(rng, dim, 1000.0)
    b = rng.normal(size=dim)
    x0 = rng.normal(size=dim) * 5
    x1 = optim.newton_step(x0, A @ x0 + b, A)
    x_star = torch.linalg.solve(torch.tensor(A), -torch.tensor(b)).numpy()
    np.testing.assert_allclose(x1, x_star, atol=1e-9)


def test_newton_matches_torch_hessian_iteration():
    # Rosenbrock: Newton's iterates computed with torch's autograd Hessian as the oracle
    def f(v):
        return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2

    def grad(v):
        t = torch.tensor(v, requires_grad=True)
        f(t).backward()
        return t.grad.numpy()

    def hess(v):
        return torch.autograd.functional.hessian(f, torch.tensor(v)).numpy()

    x = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    expected = [x.numpy().copy()]
    for _ in range(6):
        H = torch.autograd.functional.hessian(f, x)
        g = torch.func.grad(f)(x)
        x = x - torch.linalg.solve(H, g)
        expected.append(x.numpy().copy())
    ours = optim.newton(grad, hess, [-1.2, 1.0], 6)
    np.testing.assert_allclose(ours, np.array(expected), atol=1e-10)
    np.testing.assert_allclose(ours[-1], [1, 1], atol=1e-8)  # Rosenbrock's minimum


# -- clipping --------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(10))
def test_clip_by_norm_matches_torch(seed):
    rng = np.random.default_rng(seed)
    g = rng.normal(size=rng.integers(1, 30)) * 10 ** rng.uniform(-3, 3)
    max_norm = float(10 ** rng.uniform(-2, 2))
    t = torch.tensor(g, requires_grad=True)
    t.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_([t], max_norm)
    np.testing.assert_allclose(
        optim.clip_by_norm(g, max_norm, eps=1e-6), t.grad.numpy(), rtol=1e-12, atol=0
    )


def test_clip_by_norm_properties():
    g = np.array([3.0, 4.0])  # norm 5
    np.testing.assert_allclose(optim.clip_by_norm(g, 1.0), [0.6, 0.8])
    np.testing.assert_array_equal(optim.clip_by_norm(g, 5.0), g)
    np.testing.assert_array_equal(optim.clip_by_norm(g, 7.0), g)
    np.testing.assert_array_equal(optim.clip_by_norm(np.zeros(3), 1.0), np.zeros(3))
    rng = np.random.default_rng(0)
    for _ in range(20):
        v = rng.normal(size=5) * 100
        c = optim.clip_by_norm(v, 2.5)
        assert np.linalg.norm(c) <= 2.5 * (1 + 1e-12)
        assert np.dot(c, v) / (np.linalg.norm(c) * np.linalg.norm(v)) == pytest.approx(
            1
        )


# -- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"lr": 0}, ValueError, "lr must be a positive number, got 0"),
        ({"lr": -0.1}, ValueError, r"lr must be a positive number, got -0\.1"),
        ({"lr": "0.1"}, TypeError, "lr must be a positive number, got '0.1'"),
        ({"lr": True}, TypeError, "lr must be a positive number, got True"),
        ({"lr": float("nan")}, ValueError, "lr must be a finite number, got nan"),
        ({"steps": -1}, ValueError, "steps must be an int >= 0, got -1"),
        ({"steps": 2.5}, TypeError, r"steps must be an int >= 0, got 2\.5"),
        ({"steps": True}, TypeError, "steps must be an int >= 0, got True"),
        (
            {"x0": [[1.0, 2.0], [3.0, 4.0]]},
            ValueError,
            r"x0 must have shape \(dim,\), got \(2, 2\)",
        ),
        ({"x0": []}, ValueError, r"x0 must not be empty, got shape \(0,\)"),
        ({"x0": [1.0, np.inf]}, ValueError, "x0 must hold finite numbers, got inf"),
        ({"x0": "ab"}, TypeError, "x0 must be a number or an array of real numbers"),
        ({"x0": [1 + 2j, 0]}, TypeError, "x0 must hold real numbers"),
        ({"x0": [True, False]}, TypeError, "x0 must hold real numbers"),
        ({"grad": 3}, TypeError, "grad must be a function, got 3"),
        (
            {"grad": lambda x: np.zeros(3)},
            ValueError,
            r"grad must return an array of shape \(2,\)",
        ),
    ],
)
def test_gradient_descent_rejects_bad_input(kwargs, error, message):
    arguments = {"grad": lecture_grad, "x0": [2.0, 2.0], "lr": 0.1, "steps": 3} | kwargs
    with pytest.raises(error, match=message):
        optim.gradient_descent(**arguments)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: optim.SGD(0), "lr must be a positive number, got 0"),
        (
            lambda: optim.SGD(0.1, weight_decay=-1),
            "weight_decay must be a number >= 0, got -1",
        ),
        (
            lambda: optim.Momentum(0.1, beta=1.0),
            r"beta must be a number in \[0, 1\), got 1\.0",
        ),
        (
            lambda: optim.Nesterov(0.1, beta=-0.1),
            r"beta must be a number in \[0, 1\), got -0\.1",
        ),
        (lambda: optim.AdaGrad(eps=-1e-10), "eps must be a number >= 0, got -1e-10"),
        (lambda: optim.RMSProp(alpha=1.5), r"alpha must be a number in \[0, 1\)"),
        (
            lambda: optim.Adam(betas=(0.9, 1.0)),
            r"betas\[1\] must be a number in \[0, 1\), got 1\.0",
        ),
        (lambda: optim.AdamW(lr=-1), "lr must be a positive number, got -1"),
    ],
)
def test_optimizers_reject_bad_hyper_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_optimizers_reject_wrong_types():
    with pytest.raises(TypeError, match="lr must be a positive number, got None"):
        optim.SGD(None)
    with pytest.raises(TypeError, match="beta must be a number in"):
        optim.Momentum(0.1, beta="0.9")
    with pytest.raises(TypeError, match=r"betas\[0\] must be a number in"):
        optim.Adam(betas=(True, 0.9))


def test_optimizer_step_errors():
    with pytest.raises(TypeError, match=r"betas must be a pair \(beta1, beta2\)"):
        optim.Adam(betas=0.9)
    adam = optim.Adam()
    with pytest.raises(
        ValueError, match=r"g must have the shape of x \(2,\), got shape \(3,\)"
    ):
        adam.step([1.0, 2.0], [1.0, 2.0, 3.0])
    adam.step([1.0, 2.0], [0.1, 0.2])
    with pytest.raises(ValueError, match="call reset"):
        adam.step([1.0, 2.0, 3.0], [0.1, 0.2, 0.3])
    with pytest.raises(
        TypeError, match="optimizer must be an Optimizer, got the class SGD"
    ):
        optim.optimize(torch.optim.SGD, lecture_grad, [0.0, 0.0], 3)
    with pytest.raises(TypeError, match="hess must be a function"):
        optim.newton(lecture_grad, None, [0.0, 0.0], 3)


def test_quadratic_and_newton_errors():
    with pytest.raises(ValueError, match="A must be symmetric"):
        optim.exact_line_search([[1.0, 2.0], [0.0, 1.0]], [0.0, 0.0], [1.0, 1.0], 3)
    with pytest.raises(ValueError, match="A must be positive definite"):
        optim.exact_line_search([[1.0, 0.0], [0.0, -1.0]], [0.0, 0.0], [1.0, 1.0], 3)
    with pytest.raises(ValueError, match=r"A must have shape \(2, 2\), got \(3, 3\)"):
        optim.exact_line_search(np.eye(3), [0.0, 0.0], [1.0, 1.0], 3)
    with pytest.raises(ValueError, match="A must hold finite numbers, got nan"):
        optim.exact_line_search([[1.0, np.nan], [0.0, 1.0]], [0.0, 0.0], [1.0, 1.0], 3)
    with pytest.raises(ValueError, match=r"x0 must have the shape of b \(2,\)"):
        optim.exact_line_search(np.eye(2), [0.0, 0.0], [1.0, 1.0, 1.0], 3)
    with pytest.raises(ValueError, match=r"kappa must be a number >= 1, got 0\.5"):
        optim.quadratic_rate(0.5)
    with pytest.raises(TypeError, match="kappa must be a number >= 1, got '4'"):
        optim.quadratic_rate("4")
    with pytest.raises(ValueError, match="H is singular"):
        optim.newton_step([1.0, 1.0], [1.0, 1.0], np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"H must have shape \(2, 2\), got \(3, 3\)"):
        optim.newton_step([1.0, 1.0], [1.0, 1.0], np.eye(3))
    with pytest.raises(
        ValueError, match=r"max_norm must be a positive number, got 0\.0"
    ):
        optim.clip_by_norm([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match=r"g must have shape \(dim,\), got \(2, 2\)"):
        optim.clip_by_norm(np.eye(2), 1.0)


def test_a_diverging_run_stops_with_a_value_error():
    # Chapter 2's learning-rate race relies on this: iterates that overflow to inf are
    # refused by the next step as a ValueError, not returned.
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(ValueError, match="must hold finite numbers"):
            optim.optimize(optim.SGD(10.0), lambda x: x**3, [10.0], 50)
