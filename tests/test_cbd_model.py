"""CBD model: masking, Parseval check of the loss terms, variants, over-fitting, paper profile."""

from __future__ import annotations

import pytest
import torch

from freqbook.data.masking import (
    gather_tokens,
    n_masked,
    random_token_mask,
    scatter_tokens,
    time_mask,
)
from freqbook.models.cbd import (
    VARIANTS,
    CBDModel,
    LossWeights,
    ModelConfig,
    freq_mse,
    time_mse,
    variant,
)

TINY = ModelConfig(d_model=16, heads=2, enc_layers=2, td_layers=1, cbd_layers=1, order=4,
                   dropout=0.0, res_init=None)


@pytest.mark.parametrize("t,ratio", [(7, 0.75), (18, 0.75), (16, 0.6), (4, 0.9)])
@pytest.mark.parametrize("shared", [False, True])
def test_mask_ratio_and_bookkeeping(t, ratio, shared):
    gen = torch.Generator().manual_seed(0)
    mask = random_token_mask(5, t, ratio, generator=gen, shared=shared)
    k = min(int(ratio * t), t - 1)
    assert (mask.masked.sum(1) == k).all() and n_masked(t, ratio) == k
    assert mask.hidden.shape == (5, k) and mask.visible.shape == (5, t - k)
    both = torch.cat([mask.visible, mask.hidden], 1).sort(1).values
    assert (both == torch.arange(t)).all()
    if shared:
        assert (mask.masked == mask.masked[0]).all()
    tokens = torch.randn(5, t, 3)
    vis = gather_tokens(tokens, mask.visible)
    back = scatter_tokens(vis, mask.visible, t, torch.zeros(3))
    assert torch.equal(back[~mask.masked], tokens[~mask.masked])
    assert (back[mask.masked] == 0).all()


def test_per_sample_masks_differ_and_ratio_is_checked():
    mask = random_token_mask(64, 18, 0.75, generator=torch.Generator().manual_seed(1))
    assert len({tuple(r.tolist()) for r in mask.masked}) > 1
    with pytest.raises(ValueError, match="mask ratio"):
        random_token_mask(2, 8, 1.0)


def test_time_mask_expands_patches_and_crops():
    m = torch.tensor([[True, False, True]])
    assert time_mask(m, 4, 10).tolist() == [[True] * 4 + [False] * 4 + [True] * 2]


def test_parseval_frequency_loss_equals_whole_series_time_loss():
    torch.manual_seed(0)
    x, xh = torch.randn(4, 3, 50, dtype=torch.float64), torch.randn(4, 3, 50, dtype=torch.float64)
    torch.testing.assert_close(freq_mse(xh, x, "ortho"), time_mse(xh, x))
    torch.testing.assert_close(freq_mse(xh, x, "backward"), 50 * time_mse(xh, x))
    region = torch.zeros(4, 50, dtype=torch.bool)
    region[:, :20] = True
    masked = time_mse(xh, x, region)
    torch.testing.assert_close(masked, ((xh - x)[..., :20] ** 2).mean())
    assert not torch.isclose(masked, freq_mse(xh, x, "ortho"))  # so the dual term is not redundant


def test_model_shapes_and_loss_terms():
    model = CBDModel(3, 30, TINY)
    x = torch.randn(6, 3, 30)
    out = model(x, generator=torch.Generator().manual_seed(0))
    assert out["x_t"].shape == out["x_f"].shape == x.shape
    assert out["mask"].shape == (6, model.n_tokens) == (6, 4)
    total, parts = model.loss(x, out, LossWeights(gamma=0.5))
    assert set(parts) == {"t_re", "f_dual", "f_re", "t_dual"}
    expected = parts["t_re"] + parts["f_dual"] + 0.5 * (parts["f_re"] + parts["t_dual"])
    assert abs(float(total.detach()) - expected) < 1e-4
    assert model.encoder(x).shape == (6, 4, 16)
    _, maps = model.encoder(x, return_attn=True)
    assert len(maps) == 2 and maps[0].shape == (6, 2, 4, 4)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(6, 2, 4))


def test_variants_switch_branches_and_terms():
    x = torch.randn(4, 2, 24)
    seen = {}
    for name in VARIANTS:
        m_cfg, w = variant(name, TINY, LossWeights())
        model = CBDModel(2, 24, m_cfg)
        _, parts = model.loss(x, model(x), w)
        seen[name] = set(parts)
    assert seen["mtm"] == {"t_re"}
    assert seen["cbd_only"] == {"f_re"}
    assert seen["td_fdual"] == {"t_re", "f_dual"}
    assert seen["cbd_tdual"] == {"f_re", "t_dual"}
    assert seen["both_no_dual"] == {"t_re", "f_re"}
    assert seen["cbd"] == seen["no_ser"] == seen["no_cim"] == {"t_re", "f_dual", "f_re", "t_dual"}
    assert CBDModel(2, 24, variant("no_ser", TINY, LossWeights())[0]).cbd[0].ser is None
    assert CBDModel(2, 24, variant("no_cim", TINY, LossWeights())[0]).cbd[0].cim is None
    with pytest.raises(ValueError, match="unknown variant"):
        variant("nope", TINY, LossWeights())


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(ValueError, match="at least one decoder"):
        ModelConfig(use_td=False, use_cbd=False)
    with pytest.raises(ValueError, match="time_region"):
        LossWeights(time_region="visible")
    with pytest.raises(ValueError, match="expected input"):
        CBDModel(3, 30, TINY)(torch.randn(2, 4, 30))


def test_overfit_one_batch():
    """One batch and one fixed mask: 200 steps cut the reconstruction loss by more than 10x."""
    torch.manual_seed(0)
    cfg = ModelConfig(**{**TINY.__dict__, "d_model": 32, "patch": 4, "mask_ratio": 0.5})
    model = CBDModel(2, 32, cfg)
    t = torch.linspace(0, 6.28, 32)
    x = torch.stack([torch.stack([torch.sin(t + p), torch.cos(2 * t + p)]) for p in range(8)])
    mask = model.draw_mask(8, torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    w = LossWeights()
    losses = []
    for _ in range(200):
        loss, _ = model.loss(x, model(x, mask=mask), w)
        losses.append(float(loss.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[-1] < losses[0] / 10


def test_deviation_rows_revert_one_choice_each():
    """The ablation's rows of ours switch exactly the setting their deviation names."""
    from freqbook.models.cbd import DEVIATION_ROWS, TABLE2_ROWS

    base_m, base_w = ModelConfig(res_init=None), LossWeights()
    assert set(DEVIATION_ROWS).isdisjoint(TABLE2_ROWS) and len(TABLE2_ROWS) == 8
    m, w = variant("fft_backward", base_m, base_w)
    assert (m.fft_norm, w.fft_norm) == ("backward", "backward")
    m, w = variant("time_all", base_m, base_w)
    assert (m, w.time_region, w.fft_norm) == (base_m, "all", "ortho")
    m, w = variant("res_alpha", base_m, base_w)
    assert (m.res_init, w) == (1e-8, base_w)
    model = CBDModel(2, 32, ModelConfig(d_model=16, heads=2, enc_layers=1, fft_norm="backward"))
    assert all(block.fft_norm == "backward" for block in model.cbd)
    with pytest.raises(ValueError, match="unknown fft_norm"):
        ModelConfig(fft_norm="unitary")
