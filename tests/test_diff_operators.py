"""Autograd differential operators (``freqbook.nn.gradient/divergence/laplacian``).

Checked against closed forms, against central finite differences on a float64 SIREN, and on the
edge cases the image experiment relies on (a ReLU network's Laplacian is exactly zero).
"""

from __future__ import annotations

import pytest
import torch

from freqbook.nn import CoordinateMLP, divergence, gradient, laplacian

DT = torch.float64


def _points(n: int = 200, dim: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, dim, generator=g, dtype=DT) * 2 - 1).requires_grad_(True)


def test_gradient_and_laplacian_of_sin_cos():
    # f = sin(3x) cos(2y): grad = (3 cos3x cos2y, -2 sin3x sin2y), Laplacian = -13 f.
    # Distinct frequencies per axis guard swapped/mixed columns and a wrong second derivative.
    x = _points()
    f = (torch.sin(3 * x[:, 0]) * torch.cos(2 * x[:, 1])).unsqueeze(-1)
    g = gradient(f, x)
    assert g.shape == (200, 2)
    expected_g = torch.stack(
        [3 * torch.cos(3 * x[:, 0]) * torch.cos(2 * x[:, 1]),
         -2 * torch.sin(3 * x[:, 0]) * torch.sin(2 * x[:, 1])], dim=-1)
    torch.testing.assert_close(g, expected_g.detach())
    lap = laplacian(f, x)
    assert lap.shape == (200, 1)
    torch.testing.assert_close(lap, (-13 * f).detach())


def test_laplacian_of_quadratic_is_constant():
    # f = 2x^2 - 5y^2 + 3xy + x - 7: Laplacian = 4 - 10 = -6 everywhere; the mixed term 3xy
    # must not leak in (guards summing the whole Hessian instead of its trace).
    x = _points()
    f = (2 * x[:, 0] ** 2 - 5 * x[:, 1] ** 2 + 3 * x[:, 0] * x[:, 1] + x[:, 0] - 7).unsqueeze(-1)
    lap = laplacian(f, x)
    torch.testing.assert_close(lap, torch.full((200, 1), -6.0, dtype=DT))
    g = gradient(f, x)
    expected = torch.stack([4 * x[:, 0] + 3 * x[:, 1] + 1, -10 * x[:, 1] + 3 * x[:, 0]], -1)
    torch.testing.assert_close(g, expected.detach())


def test_laplacian_of_linear_is_zero():
    # The gradient of a linear function does not depend on x (it does not even require grad):
    # the Laplacian is zero rather than an error.
    x = _points(50)
    f = (3 * x[:, :1] - 2 * x[:, 1:])
    lap = laplacian(f, x)
    torch.testing.assert_close(lap, torch.zeros(50, 1, dtype=DT))


def test_laplacian_in_three_dimensions():
    # f = x^2 y + z^3: Laplacian = 2y + 6z (every axis must be visited, not just the first two).
    x = _points(100, dim=3)
    f = (x[:, 0] ** 2 * x[:, 1] + x[:, 2] ** 3).unsqueeze(-1)
    torch.testing.assert_close(laplacian(f, x),
                               (2 * x[:, 1:2] + 6 * x[:, 2:3]).detach())


def test_divergence_of_known_field():
    # v = (x^2 + 5y, xy + 7x): div = 2x + x = 3x. Off-diagonal Jacobian entries (5, y + 7) must
    # not contribute.
    x = _points()
    v = torch.stack([x[:, 0] ** 2 + 5 * x[:, 1], x[:, 0] * x[:, 1] + 7 * x[:, 0]], -1)
    div = divergence(v, x)
    assert div.shape == (200, 1)
    torch.testing.assert_close(div, (3 * x[:, :1]).detach())


def test_divergence_of_constant_field_is_zero():
    x = _points(10)
    v = torch.ones(10, 2, dtype=DT)  # does not depend on x at all
    torch.testing.assert_close(divergence(v, x), torch.zeros(10, 1, dtype=DT))


def test_gradient_rejects_vector_output():
    x = _points(10)
    # An (N, 2) output summed silently would give a wrong "gradient" (sum of both components').
    with pytest.raises(ValueError, match="scalar field"):
        gradient(x * 2, x)


def test_laplacian_is_differentiable_for_losses():
    # Poisson training backpropagates through the Laplacian: with f = p sin(3x) cos(2y),
    # d/dp mean(Lap f) = -13 mean(sin(3x) cos(2y)). Guards create_graph being dropped.
    x = _points()
    p = torch.tensor(1.7, dtype=DT, requires_grad=True)
    base = (torch.sin(3 * x[:, 0]) * torch.cos(2 * x[:, 1])).unsqueeze(-1)
    lap = laplacian(p * base, x, create_graph=True)
    (dp,) = torch.autograd.grad(lap.mean(), p)
    assert dp.item() == pytest.approx(-13 * base.mean().item(), rel=1e-10)
    # With create_graph=False the result is detached from the graph.
    lap_plain = laplacian(p * base, x, create_graph=False)
    assert not lap_plain.requires_grad


@pytest.fixture(scope="module")
def siren64() -> CoordinateMLP:
    torch.manual_seed(0)
    return CoordinateMLP(2, 1, 64, 3, activation="sine").double()


def _fd_gradient(model, x: torch.Tensor, h: float) -> torch.Tensor:
    eye = torch.eye(x.shape[1], dtype=DT)
    with torch.no_grad():
        return torch.cat([(model(x + h * e) - model(x - h * e)) / (2 * h) for e in eye], dim=1)


def _fd_laplacian(model, x: torch.Tensor, h: float) -> torch.Tensor:
    eye = torch.eye(x.shape[1], dtype=DT)
    with torch.no_grad():
        f0 = model(x)
        return sum((model(x + h * e) - 2 * f0 + model(x - h * e)) / h**2 for e in eye)


def test_siren_gradient_matches_finite_differences(siren64):
    # Central differences in float64 with h = 1e-5: truncation ~h^2 |f'''| ~ 1e-8, rounding
    # ~eps/h ~ 1e-11; observed max error 2e-8 on gradients of size ~0.5.
    x = _points(64, seed=1)
    g = gradient(siren64(x), x, create_graph=False)
    fd = _fd_gradient(siren64, x.detach(), 1e-5)
    scale = fd.abs().max().item()
    assert scale > 1e-2  # a non-trivial field
    torch.testing.assert_close(g, fd, rtol=0, atol=1e-6 * max(scale, 1.0))


def test_siren_laplacian_matches_finite_differences(siren64):
    # Second differences with h = 1e-4: truncation ~h^2/12 |f''''| (omega_0 = 30 -> ~1e-3 on
    # values ~30), rounding ~eps/h^2 ~ 1e-8; observed 5e-5. Tolerance 1e-4 of the scale.
    x = _points(64, seed=2)
    lap = laplacian(siren64(x), x, create_graph=False)
    fd = _fd_laplacian(siren64, x.detach(), 1e-4)
    scale = fd.abs().max().item()
    assert scale > 1.0  # omega_0 = 30 makes the Laplacian large: the test is not vacuous
    torch.testing.assert_close(lap, fd, rtol=0, atol=1e-4 * scale)


def test_fused_forward_matches_plain_forward(siren64):
    # Coordinates that require grad switch the model to plain autograd ops (double backward);
    # both paths must compute the same function.
    x = _points(64, seed=3)
    torch.testing.assert_close(siren64(x).detach(), siren64(x.detach()))


def test_relu_laplacian_is_exactly_zero():
    # A ReLU MLP is piecewise linear: its Laplacian is 0 almost everywhere. A tanh MLP (the
    # contrast) has a non-zero one, so the operator is not trivially returning zeros.
    torch.manual_seed(0)
    relu = CoordinateMLP(2, 1, 64, 3, activation="relu")
    x = (torch.rand(256, 2) * 2 - 1).requires_grad_(True)
    lap = laplacian(relu(x), x)
    assert lap.shape == (256, 1)
    assert torch.count_nonzero(lap) == 0
    # Its gradient is not zero, though.
    assert gradient(relu(x), x).abs().max() > 0
    tanh = CoordinateMLP(2, 1, 64, 3, activation="tanh")
    assert laplacian(tanh(x), x).abs().max() > 1e-3
