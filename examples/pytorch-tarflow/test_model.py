"""Checks of the PyTorch TARFlow (run: /usr/bin/python3 -m unittest test_model, needs torch): the flow inverts exactly,
its logdet is log|det J| (autograd), it is causal, and every block is the identity at init."""
import unittest

import torch

from train import PRESETS, Tarflow, patchify, unpatchify

CFG = dict(PRESETS["test"], patch_size=2, mlp_ratio=4, nvp=True, log_scale_clip=3.0)


def trained_like(seed=0):
    torch.manual_seed(seed)
    m = Tarflow(CFG, size=4, classes=3).double()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.3)  # away from the identity init
    return m


class TestTarflow(unittest.TestCase):
    def test_identity_at_init(self):
        torch.manual_seed(0)
        m = Tarflow(CFG, size=4, classes=3)
        x = torch.randn(2, 4, 4, 1)
        z, logdet = m(x)
        self.assertTrue(torch.allclose(z, patchify(x, 2).flatten(1)))
        self.assertTrue(torch.allclose(logdet, torch.zeros(2)))

    def test_patchify_round_trip(self):
        x = torch.randn(3, 4, 4, 1)
        self.assertTrue(torch.equal(unpatchify(patchify(x, 2), 2, 4), x))

    def test_reverse_inverts_forward(self):
        m = trained_like()
        x = torch.randn(3, 4, 4, 1, dtype=torch.float64)
        z, _ = m(x)
        zz = z.reshape(3, -1, 4)
        with torch.no_grad():
            for blk in reversed(m.blocks):
                zz = blk.reverse(zz)
        self.assertTrue(torch.allclose(unpatchify(zz, 2, 4), x, atol=1e-8))

    def test_logdet_is_log_abs_det_jacobian(self):
        m = trained_like(1)
        x = torch.randn(1, 4, 4, 1, dtype=torch.float64)
        jac = torch.autograd.functional.jacobian(lambda v: m(v.reshape(1, 4, 4, 1))[0].reshape(-1), x.reshape(-1))
        _, logdet = m(x)
        self.assertAlmostEqual(torch.linalg.slogdet(jac)[1].item(), logdet.item(), places=6)

    def test_causal_in_each_block_order(self):
        m = trained_like(2)
        blk = m.blocks[0]  # raster order: changing the last token changes no earlier z
        x = torch.randn(2, 4, 4, dtype=torch.float64)
        x2 = x.clone()
        x2[:, -1] += 1.0
        self.assertTrue(torch.allclose(blk(x)[0][:, :-1], blk(x2)[0][:, :-1]))
        flipped = m.blocks[1]  # reversed order: changing the first token changes no later z
        x3 = x.clone()
        x3[:, 0] += 1.0
        self.assertTrue(torch.allclose(flipped(x)[0][:, 1:], flipped(x3)[0][:, 1:]))


if __name__ == "__main__":
    unittest.main()
