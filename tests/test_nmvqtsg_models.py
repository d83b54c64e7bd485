"""NM-VQTSG building blocks: STFT split, vector quantiser / SVQ, masking schedule, U-Net."""

from __future__ import annotations

import math

import pytest
import torch

from freqbook.models.mapper import UNet1D
from freqbook.models.maskgit import MaskGIT, PriorConfig, mask_schedule, random_mask
from freqbook.models.timevqvae import Stage1Config, TimeVQVAE, split_bands
from freqbook.nn.vq import VectorQuantizer, kmeans, sample_codes, squared_distances


@pytest.mark.parametrize("length", [46, 140, 150])
def test_stft_split_low_plus_high_is_the_input(length):
    x = torch.randn(4, 1, length, generator=torch.Generator().manual_seed(0))
    x_l, x_h = split_bands(x)
    assert x_l.shape == x_h.shape == x.shape
    assert torch.allclose(x_l + x_h, x, atol=1e-5)
    # the LF part is smoother than the input: its first differences carry less energy
    assert x_l.diff().pow(2).sum() < 0.5 * x.diff().pow(2).sum()


@pytest.mark.parametrize(("length", "lf", "hf"), [(46, 5, 46), (140, 8, 70), (150, 9, 74)])
def test_token_counts_match_the_code(length, lf, hf):
    """Spec section 2.1 table: LF / HF tokens per series for Crop, ECG5000, GunPoint."""
    m = TimeVQVAE(Stage1Config(length=length))
    assert (m.lf.n_tokens, m.hf.n_tokens) == (lf, hf)


def test_quantizer_straight_through_gradients_reach_the_input():
    torch.manual_seed(0)
    vq = VectorQuantizer(dim=16, codebook_size=32, codebook_dim=4).train()
    z = torch.randn(2, 16, 1, 10, requires_grad=True)
    out = vq(z)
    assert out.z_q.shape == z.shape and out.indices.shape == (2, 10)
    out.z_q.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    # with the STE the gradient of sum(project_out(q)) w.r.t. project_in's output is W_out^T 1
    assert vq.project_in.weight.grad is not None and vq.project_in.weight.grad.abs().sum() > 0


def test_quantizer_forward_value_is_the_nearest_code():
    torch.manual_seed(1)
    vq = VectorQuantizer(dim=8, codebook_size=16, codebook_dim=3, kmeans_init=False).eval()
    z = torch.randn(3, 8, 1, 5)
    out = vq(z)
    tokens = z.permute(0, 2, 3, 1).reshape(-1, 8)
    nearest = squared_distances(vq.project_in(tokens), vq.embed).argmin(1)
    assert torch.equal(out.indices.reshape(-1), nearest)
    expected = vq.project_out(vq.embed[nearest]).reshape(3, 1, 5, 8).permute(0, 3, 1, 2)
    assert torch.allclose(out.z_q, expected, atol=1e-6)


def test_kmeans_init_and_ema_use_many_codes_and_eval_leaves_codebook_alone():
    torch.manual_seed(2)
    vq = VectorQuantizer(dim=8, codebook_size=16, codebook_dim=2).train()
    z = torch.randn(8, 8, 1, 32)
    out = vq(z)
    assert bool(vq.initted)
    assert out.indices.unique().numel() >= 12          # k-means spreads the codes
    assert out.perplexity > 8.0
    before = vq.embed.clone()
    vq.eval()
    vq(z)
    vq(z, svq_temp=1.0)
    assert torch.equal(vq.embed, before)               # eval / SVQ: no EMA update
    vq.train()
    vq(z, svq_temp=1.0)
    assert torch.equal(vq.embed, before)               # SVQ never updates the codebook
    vq(z + 1.0)
    assert not torch.equal(vq.embed, before)           # training: EMA moves the codes


def test_kmeans_finds_separated_clusters():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(50, 2, generator=g) for c in centres])
    found = kmeans(x, 3, iters=20, generator=g)
    d = squared_distances(centres, found).min(1).values
    assert (d < 0.1).all()


def test_svq_tends_to_deterministic_quantisation_as_tau_goes_to_zero():
    torch.manual_seed(3)
    vq = VectorQuantizer(dim=8, codebook_size=64, codebook_dim=4, kmeans_init=False).eval()
    z = torch.randn(4, 8, 2, 20)
    det = vq(z).indices
    g = torch.Generator().manual_seed(0)
    assert torch.equal(vq(z, svq_temp=1e-6, generator=g).indices, det)
    hot = vq(z, svq_temp=100.0, generator=g).indices
    assert (hot != det).float().mean() > 0.5


def test_svq_changes_more_tokens_at_higher_temperature():
    torch.manual_seed(4)
    dist = torch.rand(2000, 32) * 4
    det = sample_codes(dist, None)
    rates = [(sample_codes(dist, t, torch.Generator().manual_seed(1)) != det).float().mean()
             for t in (0.01, 0.1, 1.0, 10.0)]
    assert all(a < b for a, b in zip(rates[:-1], rates[1:], strict=True))


def test_svq_samples_the_softmax_distribution():
    dist = torch.tensor([[0.0, 1.0, 2.0]]).repeat(20000, 1)
    tau = 0.7
    idx = sample_codes(dist, tau, torch.Generator().manual_seed(5))
    freq = torch.bincount(idx, minlength=3).float() / idx.numel()
    expected = torch.softmax(-dist[0] / tau, 0)
    assert torch.allclose(freq, expected, atol=0.015)


def test_masking_schedule_and_random_mask():
    assert float(mask_schedule(0.0)) == pytest.approx(1.0)
    assert float(mask_schedule(1.0)) == pytest.approx(0.0, abs=1e-6)
    r = torch.linspace(0, 1, 11)
    assert (mask_schedule(r).diff() <= 0).all()
    assert float(mask_schedule(0.5)) == pytest.approx(math.cos(math.pi / 4))
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 10, (500, 12), generator=g)
    masked, mask = random_mask(tokens, 10, g)
    n_masked = mask.sum(1)
    assert (n_masked >= 1).all() and (n_masked <= 12).all()   # at least one masked, n_keep <= n-1
    assert torch.equal(masked[mask], torch.full_like(masked[mask], 10))
    assert torch.equal(masked[~mask], tokens[~mask])
    # E[kept fraction] = E[floor(cos(pi r / 2) n)] / n ~ 2/pi - 1/(2n)
    kept = 1 - n_masked.float().mean() / 12
    assert float(kept) == pytest.approx(2 / math.pi - 0.5 / 12, abs=0.04)


def test_iterative_decoding_leaves_no_mask_token():
    torch.manual_seed(5)
    stage1 = TimeVQVAE(Stage1Config(length=46, codebook_size=32)).eval()
    prior = MaskGIT(PriorConfig(n_classes=3, codebook_size=32, T_lf=4, T_hf=4),
                    stage1.lf.n_tokens, stage1.hf.n_tokens)
    cls = torch.tensor([0, 1, 3])
    s = prior._decode(prior.lf, prior.lf.n_tokens, cls, 4, 10.0, None, None)
    assert s.shape == (3, stage1.lf.n_tokens) and (s < 32).all()
    x = prior.sample(5, stage1, classes=1, batch_size=2)
    assert x.shape == (5, 1, 46) and torch.isfinite(x).all()


@pytest.mark.parametrize("length", [46, 140, 150, 37])
def test_unet_preserves_shape(length):
    net = UNet1D().eval()
    x = torch.randn(3, 1, length)
    assert net(x).shape == x.shape


def test_unet_parameter_count_matches_the_spec():
    """Spec 2.4: about 0.31 M parameters for C = 1 without the unused time MLP."""
    n = sum(p.numel() for p in UNet1D().parameters())
    assert 300_000 < n < 330_000
