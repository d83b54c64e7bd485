"""The fused sine kernel computes the same function and gradients as plain autograd ops.

``SineLayer(x, fused=True)`` runs a hand-written ``autograd.Function`` (omega folded into the
parameters, phase buffer reused in place and recycled between steps); ``fused=False`` runs
``sin(omega_0 * linear(x))`` through autograd. Only float rounding may differ:

* in float64 the two agree to ~1e-12 relative, for every size and omega (3000 included);
* in float32 the phase ``omega (W x + b)`` carries a rounding error ~ ``eps * |phase|``, so the
  tolerance is 2e-5 of the tensor's norm for omega 30 and scales with omega (phases of thousands
  of radians for omega 3000 first layers, where float32 itself is only good to ~1e-4 rad); a
  separate test checks that there the fused float32 kernel is as accurate as plain float32.
"""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
import torch.nn.functional as F

from freqbook.nn import CoordinateMLP, SineLayer, laplacian
from freqbook.nn import sine as sine_mod

# (in, out, omega, is_first): hidden layers of the paper's widths, first layers for images
# (omega 30) and for audio (1-D input, omega 3000).
LAYERS = [
    (2, 16, 30.0, True),
    (2, 256, 30.0, True),
    (1, 64, 3000.0, True),
    (3, 128, 3000.0, True),
    (256, 256, 30.0, False),
    (64, 32, 30.0, False),
    (17, 5, 1.0, False),
]


def _rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def _outputs_and_grads(layer: SineLayer, x: torch.Tensor, fused: bool, seed: int):
    """Output and gradients of a random linear functional of the output."""
    x = x.detach().clone().requires_grad_(True)
    y = layer(x, fused=fused)
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(y.shape, dtype=torch.float64, generator=gen).to(y.dtype)
    params = [layer.linear.weight, layer.linear.bias]
    grads = torch.autograd.grad((y * g).sum(), [x, *params])
    return y.detach(), grads


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("n_in", "n_out", "omega", "is_first"), LAYERS)
def test_fused_matches_plain(n_in, n_out, omega, is_first, dtype):
    torch.manual_seed(n_in * 1000 + n_out)
    layer = SineLayer(n_in, n_out, omega, is_first=is_first).to(dtype)
    x = (torch.rand(300, n_in) * 2 - 1).to(dtype)
    y_f, grads_f = _outputs_and_grads(layer, x, fused=True, seed=1)
    y_p, grads_p = _outputs_and_grads(layer, x, fused=False, seed=1)
    if dtype == torch.float64:
        tol = 1e-10
    else:
        tol = 2e-5 * max(1.0, omega / 30.0)  # observed <= 1e-6 (omega 30), 1.2e-4 (3000)
    assert _rel_err(y_f, y_p) < tol
    for name, gf, gp in zip(("x", "weight", "bias"), grads_f, grads_p, strict=True):
        assert gf.shape == gp.shape and gf.dtype == gp.dtype, name
        assert _rel_err(gf, gp) < tol, name


@pytest.mark.parametrize(
    ("n_in", "n_out", "n_rows"), [(2, 256, 5000), (256, 256, 5000), (64, 64, 5000)]
)
def test_fused_matches_plain_over_several_row_blocks(n_in, n_out, n_rows):
    # The CPU backward works in row blocks of ~2 MiB (float64: 1024 rows at width 256, 4096 at
    # width 64), so these sizes take 5 and 2 blocks, the last one partial.
    assert n_rows > sine_mod._block_rows(torch.empty(1, n_out, dtype=torch.float64))
    torch.manual_seed(n_rows + n_in)
    layer = SineLayer(n_in, n_out, 30.0, is_first=n_in == 2).double()
    x = (torch.rand(n_rows, n_in) * 2 - 1).double()
    y_f, grads_f = _outputs_and_grads(layer, x, fused=True, seed=4)
    y_p, grads_p = _outputs_and_grads(layer, x, fused=False, seed=4)
    assert _rel_err(y_f, y_p) < 1e-12
    for gf, gp in zip(grads_f, grads_p, strict=True):
        assert _rel_err(gf, gp) < 1e-12


def test_non_contiguous_input_and_expanded_grad():
    # A transposed input view and the stride-0 gradient that ``.sum().backward()`` produces.
    torch.manual_seed(6)
    layer = SineLayer(8, 256, 30.0).double()
    x = (torch.rand(8, 3000, dtype=torch.float64) * 2 - 1).t()
    assert not x.is_contiguous()
    grads = []
    for fused in (True, False):
        xg = x.detach().requires_grad_(True)
        params = [xg, layer.linear.weight, layer.linear.bias]
        grads.append(torch.autograd.grad(layer(xg, fused=fused).sum(), params))
    for gf, gp in zip(*grads, strict=True):
        assert _rel_err(gf, gp) < 1e-12


def test_fused_float32_omega3000_agrees_with_float64_reference():
    # The float32 fused kernel is as accurate as float32 plain autograd: both are compared with
    # the same layer evaluated in float64.
    torch.manual_seed(0)
    layer = SineLayer(1, 64, 3000.0, is_first=True)
    ref = copy.deepcopy(layer).double()
    x = torch.rand(400, 1) * 2 - 1
    y_ref, g_ref = _outputs_and_grads(ref, x.double(), fused=False, seed=3)
    errs = {}
    for fused in (True, False):
        y, g = _outputs_and_grads(layer, x, fused=fused, seed=3)
        errs[fused] = [_rel_err(y.double(), y_ref)] + [
            _rel_err(a.double(), b) for a, b in zip(g, g_ref, strict=True)
        ]
    # Observed: ~8e-5 for both (float32 rounding of phases up to ~6000 rad).
    for e_fused, e_plain in zip(errs[True], errs[False], strict=True):
        assert e_fused < 1e-3
        assert e_fused < 2 * e_plain


def test_repeated_steps_reuse_buffers_without_changing_results():
    # Large enough (1 MiB phase) for the buffer pool: step k >= 2 writes into recycled memory.
    torch.manual_seed(1)
    layer = SineLayer(64, 64, 30.0)
    sine_mod.clear_phase_buffers()
    for step in range(3):
        x = torch.rand(4096, 64, generator=torch.Generator().manual_seed(step)) * 2 - 1
        y_f, grads_f = _outputs_and_grads(layer, x, fused=True, seed=step)
        y_p, grads_p = _outputs_and_grads(layer, x, fused=False, seed=step)
        assert _rel_err(y_f, y_p) < 1e-5
        for gf, gp in zip(grads_f, grads_p, strict=True):
            assert _rel_err(gf, gp) < 1e-4
        assert len(sine_mod._PHASE_POOL._free) == 1
    sine_mod.clear_phase_buffers()
    assert not sine_mod._PHASE_POOL._free


def test_two_forwards_before_backward():
    # The second forward must not overwrite the first one's saved phase.
    torch.manual_seed(2)
    layer = SineLayer(32, 128, 30.0)
    x1, x2 = torch.rand(2048, 32), torch.rand(2048, 32)
    for _ in range(2):  # the second round starts with a recycled buffer in the pool
        loss = layer(x1).square().sum() + layer(x2).sin().sum()
        gw_f = torch.autograd.grad(loss, layer.linear.weight)[0]
        loss_p = layer(x1, fused=False).square().sum() + layer(x2, fused=False).sin().sum()
        gw_p = torch.autograd.grad(loss_p, layer.linear.weight)[0]
        assert _rel_err(gw_f, gw_p) < 1e-4


def test_inference_path_matches_plain():
    torch.manual_seed(3)
    layer = SineLayer(2, 64, 30.0, is_first=True)
    x = torch.rand(500, 2) * 2 - 1
    with torch.no_grad():
        y_inf = layer(x)
    y_plain = layer(x, fused=False).detach()
    assert _rel_err(y_inf, y_plain) < 1e-5


def test_fused_layer_is_first_order_only():
    layer = SineLayer(3, 8, 30.0)
    x = torch.rand(10, 3, requires_grad=True)
    (gx,) = torch.autograd.grad(layer(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(gx.sum(), layer.linear.weight)


def test_layer_pickles_and_copies():
    layer = SineLayer(4, 8, 30.0)
    x = torch.rand(5, 4)
    layer(x).sum().backward()
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        torch.testing.assert_close(clone(x), layer(x))


def _model_pair(seed: int) -> tuple[CoordinateMLP, CoordinateMLP]:
    torch.manual_seed(seed)
    fused = CoordinateMLP(2, 1, 64, 3, activation="sine", fused=True)
    plain = CoordinateMLP(2, 1, 64, 3, activation="sine", fused=False)
    plain.load_state_dict(fused.state_dict())
    return fused, plain


def test_coordinate_mlp_fit_gradients_agree():
    fused, plain = _model_pair(4)
    coords = torch.rand(1024, 2) * 2 - 1
    target = torch.sin(3 * coords[:, :1]) * coords[:, 1:]
    grads = []
    for model in (fused, plain):
        loss = F.mse_loss(model(coords), target)
        grads.append(torch.autograd.grad(loss, list(model.parameters())))
    for gf, gp in zip(*grads, strict=True):
        assert _rel_err(gf, gp) < 1e-4


def test_coordinate_mlp_laplacian_agrees_between_fused_and_plain():
    # Coordinates that require grad bypass the fused kernel; the Laplacian (a double backward)
    # and the gradient of a loss on it must match the plain model's.
    fused, plain = _model_pair(5)
    coords = (torch.rand(256, 2) * 2 - 1).requires_grad_(True)
    laps, grads = [], []
    for model in (fused, plain):
        lap = laplacian(model(coords), coords)
        laps.append(lap.detach())
        # The head bias does not reach the Laplacian: its gradient is None in both models.
        grads.append(
            torch.autograd.grad(lap.square().mean(), list(model.parameters()), allow_unused=True)
        )
    assert laps[0].abs().max() > 1.0  # omega_0 = 30: the Laplacian is large, not vacuous
    assert _rel_err(laps[0], laps[1]) < 1e-5
    for gf, gp in zip(*grads, strict=True):
        assert (gf is None) == (gp is None)
        if gf is not None:
            assert _rel_err(gf, gp) < 1e-4


def test_second_backward_through_a_retained_graph_is_refused():
    # The fused backward overwrites and recycles its phase buffer: a silent second pass would
    # return wrong gradients, so it must raise instead.
    layer = SineLayer(3, 8, 30.0)
    out = layer(torch.rand(16, 3)).sum()
    out.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="backward called twice"):
        out.backward()
