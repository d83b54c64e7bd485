"""CIM and SER of the CBD decoder: shapes and the invariants the paper's equations imply."""

from __future__ import annotations

import math

import pytest
import torch

from freqbook.nn.cbd_blocks import CIM, SER, CBDBlock, bernstein_basis


def circular_conv(z: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """``y[t] = sum_s kernel[s] z[(t - s) mod T]`` along dim 1 of ``(n, T, D)``."""
    t = z.shape[1]
    out = torch.zeros_like(z)
    for shift in range(t):
        out += kernel[:, shift : shift + 1] * torch.roll(z, shifts=shift, dims=1)
    return out


@pytest.mark.parametrize("t", [7, 8, 18])
def test_cim_product_is_circular_convolution(t):
    torch.manual_seed(0)
    d = 6
    cim = CIM(d).double()
    z = torch.randn(3, t, d, dtype=torch.float64)
    zf = torch.fft.rfft(z, dim=1)  # un-normalised convention
    m = cim.modulation(zf)
    y = torch.fft.irfft(cim(zf), n=t, dim=1)
    kernel = torch.fft.irfft(m, n=t, dim=1)  # the dynamic, content-dependent kernel
    assert m.shape == zf.shape
    torch.testing.assert_close(y, circular_conv(z, kernel), rtol=1e-9, atol=1e-9)


def test_cim_modulation_is_relu_of_complex_affine_map():
    torch.manual_seed(1)
    cim = CIM(4).double()
    zf = torch.randn(2, 5, 4, dtype=torch.complex128)
    w = torch.complex(cim.w_re, cim.w_im)
    b = torch.complex(cim.b_re, cim.b_im)
    lin = zf @ w.T + b
    expected = torch.complex(torch.relu(lin.real), torch.relu(lin.imag))
    torch.testing.assert_close(cim.modulation(zf), expected)
    assert (cim.modulation(zf).real >= 0).all() and (cim.modulation(zf).imag >= 0).all()


@pytest.mark.parametrize("order", [0, 1, 4, 12])
def test_bernstein_basis_is_a_partition_of_unity(order):
    w = torch.rand(50, dtype=torch.float64)
    basis = bernstein_basis(w, order)
    assert basis.shape == (50, order + 1)
    torch.testing.assert_close(basis.sum(-1), torch.ones(50, dtype=torch.float64))
    k = 2 if order >= 2 else order
    expected = math.comb(order, k) * (1 - w) ** (order - k) * w**k
    torch.testing.assert_close(basis[:, k], expected)


@pytest.mark.parametrize("norm", ["softmax", "max"])
@pytest.mark.parametrize("pooled", [False, True])
def test_ser_with_flat_response_is_identity(norm, pooled):
    ser = SER(n_freq=10, order=12, pooled=pooled, norm=norm)
    zf = torch.randn(3, 10, 8, dtype=torch.complex64) * 5
    torch.testing.assert_close(ser(zf), zf, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ser.last_gain, torch.ones(3, 10, 8), rtol=1e-5, atol=1e-5)


def test_ser_response_matches_bernstein_sum_and_shapes():
    torch.manual_seed(2)
    ser = SER(n_freq=6, order=5, norm="max")
    torch.nn.init.normal_(ser.gate.weight)
    torch.nn.init.normal_(ser.gate.bias)
    zf = torch.randn(2, 6, 3, dtype=torch.complex64)
    a = ser.normalised_energy(zf)
    assert a.shape == (2, 6, 3) and float(a.max()) <= 1.0 + 1e-6 and float(a.min()) >= 0.0
    coef = ser.coefficients(a)
    assert coef.shape == (2, 3, 6)  # (n, D, K+1): K+1 coefficients, not the paper's K
    expected = (bernstein_basis(a, 5) * coef.unsqueeze(1)).sum(-1)
    torch.testing.assert_close(ser.response(a, coef), expected, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(ser(zf), zf)  # a non-flat gate changes the spectrum


def test_ser_softmax_energy_sums_to_one_over_frequency():
    ser = SER(n_freq=9, order=3)
    a = ser.normalised_energy(torch.randn(2, 9, 4, dtype=torch.complex64))
    torch.testing.assert_close(a.sum(1), torch.ones(2, 4))


def test_cbd_block_shapes_and_identity_spectral_operator():
    torch.manual_seed(3)
    block = CBDBlock(d_model=8, n_tokens=7, order=4, dropout=0.0, use_cim=False)
    z = torch.randn(2, 7, 8)
    torch.testing.assert_close(block.spectral(z), z, rtol=1e-5, atol=1e-5)  # SER starts flat
    assert block(z).shape == z.shape
    with pytest.raises(ValueError, match="tokens"):
        block(torch.randn(2, 6, 8))


def test_ser_rejects_unknown_normalisation():
    with pytest.raises(ValueError, match="unknown SER normalisation"):
        SER(4, norm="l2")


def test_cbd_block_fft_scaling_is_a_switch():
    """Without CIM and SER the spectral operator is the identity under either FFT scaling; with
    SER (softmax of |Z_F|) the paper's unscaled forward transform changes what the block computes
    (the registered FFT-scaling deviation)."""
    torch.manual_seed(0)
    z = torch.randn(2, 9, 8, dtype=torch.float64)
    for norm in ("ortho", "backward"):
        bare = CBDBlock(8, 9, use_cim=False, use_ser=False, fft_norm=norm).double()
        torch.testing.assert_close(bare.spectral(z), z)
    blocks = {n: CBDBlock(8, 9, use_cim=False, fft_norm=n).double() for n in ("ortho", "backward")}
    with torch.no_grad():
        for b in blocks.values():
            b.ser.gate.weight.copy_(torch.linspace(-2, 2, b.ser.gate.weight.numel(),
                                                   dtype=torch.float64).view_as(b.ser.gate.weight))
    assert not torch.allclose(blocks["ortho"].spectral(z), blocks["backward"].spectral(z))
    with pytest.raises(ValueError, match="unknown fft_norm"):
        CBDBlock(8, 9, fft_norm="unitary")
