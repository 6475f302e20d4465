#!/usr/bin/env python3
"""The TARFlow of packages/tarflow (same presets, same shapes) timed in PyTorch: training images/s (forward, backward,
global-norm clipping, AdamW) and one-pass classification images/s (log p(x|c) for all 10 classes), float32.

The reference for the webgpu backend's numbers on the same GPU (scripts/gpu-check.sh runs both). Only torch is needed.

  python3 scripts/torch-tarflow-bench.py [--presets tiny,small,paper] [--batches 64,256] [--steps 20] [--json]

Architecture as packages/tarflow: patchify to T tokens of D values; per flow block (odd blocks reverse the token
order) a causal pre-LN transformer (width W, W/64 heads, MLP 4W with tanh GELU) whose output for token t gives the
shift b and log-scale a (clipped to ±3) of token t+1; z = (x − b)·exp(−a); one diagonal Gaussian prior per class.
"""
import argparse
import json
import math
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BASE = dict(image_size=28, channels=1, mlp_ratio=4, nvp=True, log_scale_clip=3.0, num_classes=10)
PRESETS = {
    'paper': dict(BASE, patch_size=2, width=256, num_blocks=6, layers_per_block=4, head_dim=64),
    'small': dict(BASE, patch_size=2, width=128, num_blocks=4, layers_per_block=2, head_dim=64),
    'tiny': dict(BASE, patch_size=4, width=64, num_blocks=2, layers_per_block=2, head_dim=64),
    'test': dict(BASE, image_size=8, patch_size=2, width=16, num_blocks=2, layers_per_block=1, head_dim=8),
}
HAS_SDPA = hasattr(F, 'scaled_dot_product_attention')


class Layer(nn.Module):
    def __init__(self, w, head_dim, mlp_ratio):
        super().__init__()
        self.heads = w // head_dim
        self.norm1, self.qkv, self.proj = nn.LayerNorm(w), nn.Linear(w, 3 * w), nn.Linear(w, w)
        self.norm2, self.fc1, self.fc2 = nn.LayerNorm(w), nn.Linear(w, mlp_ratio * w), nn.Linear(mlp_ratio * w, w)

    def forward(self, h, mask):
        B, T, W = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(B, T, 3, self.heads, W // self.heads).permute(2, 0, 3, 1, 4)
        if HAS_SDPA:
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q @ k.transpose(-1, -2)) / math.sqrt(W // self.heads) + mask
            a = s.softmax(-1) @ v
        h = h + self.proj(a.transpose(1, 2).reshape(B, T, W))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h)), approximate='tanh'))


class Block(nn.Module):
    def __init__(self, c, T, D, flip):
        super().__init__()
        W = c['width']
        self.flip, self.D, self.clip = flip, D, c['log_scale_clip']
        self.proj_in = nn.Linear(D, W)
        self.pos = nn.Parameter(torch.randn(T, W) * 0.01)
        self.layers = nn.ModuleList(Layer(W, c['head_dim'], c['mlp_ratio']) for _ in range(c['layers_per_block']))
        self.proj_out = nn.Linear(W, 2 * D)
        nn.init.normal_(self.proj_out.weight, std=0.01)  # not zero, so that the timed graph is the general one
        self.register_buffer('mask', torch.full((T, T), -1e9).triu(1))

    def forward(self, x):
        if self.flip:
            x = x.flip(1)
        h = self.proj_in(x) + self.pos
        for layer in self.layers:
            h = layer(h, self.mask)
        a, b = self.proj_out(h).chunk(2, -1)
        a = F.pad(a[:, :-1], (0, 0, 1, 0)).clamp(-self.clip, self.clip)  # token t's output acts on token t+1
        b = F.pad(b[:, :-1], (0, 0, 1, 0))
        z = (x - b) * torch.exp(-a)
        logdet = -a.sum((1, 2))
        return (z.flip(1) if self.flip else z), logdet


class Tarflow(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.p = c['patch_size']
        self.T = (c['image_size'] // self.p) ** 2
        self.D = c['channels'] * self.p * self.p
        self.blocks = nn.ModuleList(Block(c, self.T, self.D, i % 2 == 1) for i in range(c['num_blocks']))
        n = self.T * self.D
        self.mu = nn.Parameter(torch.randn(c['num_classes'], n))
        self.log_sigma = nn.Parameter(torch.zeros(c['num_classes'], n))

    def patchify(self, x):  # (B, H, W, C) → (B, T, D), tokens row-major over the patch grid, values (py, px, c)
        B, H, W, C = x.shape
        p = self.p
        return x.view(B, H // p, p, W // p, p, C).permute(0, 1, 3, 2, 4, 5).reshape(B, self.T, self.D)

    def forward(self, x):
        z = self.patchify(x)
        logdet = torch.zeros(x.shape[0], device=x.device)
        for blk in self.blocks:
            z, ld = blk(z)
            logdet = logdet + ld
        return z.flatten(1), logdet

    def log_prior_all(self, z):  # (B, N) → (B, C)
        inv = torch.exp(-2 * self.log_sigma)  # (C, N)
        quad = (z * z) @ inv.T - 2 * z @ (self.mu * inv).T + (self.mu * self.mu * inv).sum(1)
        return -0.5 * quad - self.log_sigma.sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)

    def nll(self, x, y):
        z, logdet = self(x)
        mu, ls = self.mu[y], self.log_sigma[y]
        lp = (-0.5 * ((z - mu) * torch.exp(-ls)) ** 2 - ls - 0.5 * math.log(2 * math.pi)).sum(1)
        return -(lp + logdet).mean() / z.shape[1]


def sync(dev):
    if dev.type == 'cuda':
        torch.cuda.synchronize()


def bench(preset, batch, steps, dev):
    torch.manual_seed(0)
    c = PRESETS[preset]
    m = Tarflow(c).to(dev)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    S = c['image_size']
    x = torch.rand(batch, S, S, c['channels'], device=dev) * 2 - 1
    y = torch.randint(0, c['num_classes'], (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = m.nll(x + 0.1 * torch.randn_like(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        return loss

    for _ in range(3):
        step()
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    loss.item()
    sync(dev)
    train_s = time.perf_counter() - t0
    with torch.no_grad():
        for _ in range(2):
            m.log_prior_all(m(x)[0]).argmax(1)
        sync(dev)
        t0 = time.perf_counter()
        reps = 10
        for _ in range(reps):
            pred = m.log_prior_all(m(x)[0]).argmax(1)
        pred.cpu()
        sync(dev)
        cls_s = time.perf_counter() - t0
    params = sum(p.numel() for p in m.parameters())
    return dict(preset=preset, batch=batch, params=params, trainImagesPerSec=steps * batch / train_s, stepMs=1000 * train_s / steps,
                classifyImagesPerSec=reps * batch / cls_s, finalLoss=float(loss))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--presets', default='tiny,small,paper')
    ap.add_argument('--batches', default='64,256')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    for p in a.presets.split(','):
        if p not in PRESETS:
            sys.exit(f'--presets: expected some of {", ".join(PRESETS)}, got "{p}"')
    dev = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 throughout, as WebGPU computes
    torch.backends.cudnn.allow_tf32 = False
    rows = [bench(p, int(b), a.steps, dev) for p in a.presets.split(',') for b in a.batches.split(',')]
    info = dict(torch=torch.__version__, device=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else platform.processor() or 'cpu',
                dtype='float32 (TF32 off)', attention='scaled_dot_product_attention' if HAS_SDPA else 'explicit softmax', python=platform.python_version())
    if a.json:
        print(json.dumps(dict(machine=info, rows=rows)))
        return
    print(f"torch {info['torch']} on {info['device']}, {info['dtype']}, attention: {info['attention']}")
    print('| preset | batch | params | train img/s | step ms | classify img/s |\n|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['preset']} | {r['batch']} | {r['params']:,} | {r['trainImagesPerSec']:.1f} | {r['stepMs']:.1f} | {r['classifyImagesPerSec']:.0f} |")


if __name__ == '__main__':
    main()
