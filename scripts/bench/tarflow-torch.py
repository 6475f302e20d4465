#!/usr/bin/python3
"""PyTorch CPU reference for `pnpm bench:train`: the same TARFlow shapes (presets tiny / small), one full training
step (forward, backward, AdamW) per batch, on N threads. Random inputs: speed does not depend on the pixels.

    /usr/bin/python3 scripts/bench/tarflow-torch.py --preset tiny --batch 64 --threads 1 --steps 20

Debian's python3-torch (apt-get install python3-torch) is for /usr/bin/python3, not a pyenv python3 on PATH.
"""
import argparse, json, math, os, sys, time

# --threads must bound every thread pool, OpenBLAS's too: torch.set_num_threads alone left Debian's OpenBLAS starting
# its own second thread, which spun and doubled the CPU time of a "one-thread" run. Set before torch loads OpenBLAS.
_t = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == '--threads'), None)
if _t is not None:
    for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ.setdefault(_v, _t)

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # packages/tarflow/src/config.ts
    'paper': dict(patch=2, width=256, blocks=6, layers=4, head_dim=64),
    'small': dict(patch=2, width=128, blocks=4, layers=2, head_dim=64),
    'tiny': dict(patch=4, width=64, blocks=2, layers=2, head_dim=64),
}


class Attention(nn.Module):
    def __init__(self, w, hd):
        super().__init__()
        self.norm, self.qkv, self.proj, self.h = nn.LayerNorm(w), nn.Linear(w, 3 * w), nn.Linear(w, w), w // hd

    def forward(self, x, mask):
        B, T, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, T, 3, self.h, W // self.h).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(W // self.h) + mask, -1)
        return self.proj((att @ v).transpose(1, 2).reshape(B, T, W))


class Mlp(nn.Module):
    def __init__(self, w, r=4):
        super().__init__()
        self.norm, self.fc1, self.fc2 = nn.LayerNorm(w), nn.Linear(w, r * w), nn.Linear(r * w, w)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(self.norm(x)), approximate='tanh'))


class Block(nn.Module):
    def __init__(self, T, D, w, layers, hd, flip):
        super().__init__()
        self.flip, self.proj_in, self.pos = flip, nn.Linear(D, w), nn.Parameter(torch.randn(T, w) * 0.01)
        self.attn = nn.ModuleList(Attention(w, hd) for _ in range(layers))
        self.mlp = nn.ModuleList(Mlp(w) for _ in range(layers))
        self.proj_out = nn.Linear(w, 2 * D)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)
        self.register_buffer('mask', torch.triu(torch.full((T, T), -1e9), 1))

    def forward(self, x):
        if self.flip:
            x = x.flip(1)
        h = self.proj_in(x) + self.pos
        for a, m in zip(self.attn, self.mlp):
            h = h + a(h, self.mask)
            h = h + m(h)
        a, b = self.proj_out(h).chunk(2, -1)
        a = torch.cat([torch.zeros_like(a[:, :1]), a[:, :-1]], 1).clamp(-3, 3)  # token t's params from tokens < t
        b = torch.cat([torch.zeros_like(b[:, :1]), b[:, :-1]], 1)
        z = (x - b) * torch.exp(-a)
        return (z.flip(1) if self.flip else z), -a.sum((1, 2))


class Tarflow(nn.Module):
    def __init__(self, patch, width, blocks, layers, head_dim, size=28, classes=10):
        super().__init__()
        self.p, T, D = patch, (size // patch) ** 2, patch * patch
        self.blocks = nn.ModuleList(Block(T, D, width, layers, head_dim, i % 2 == 1) for i in range(blocks))
        self.mu = nn.Parameter(torch.randn(classes, T, D))  # one learned diagonal Gaussian prior per class
        self.log_sigma = nn.Parameter(torch.zeros(classes, T, D))

    def forward(self, img, y):
        B, p = img.shape[0], self.p
        x = img.reshape(B, 28 // p, p, 28 // p, p).permute(0, 1, 3, 2, 4).reshape(B, -1, p * p)
        logdet = 0
        for blk in self.blocks:
            x, ld = blk(x)
            logdet = logdet + ld
        ls = self.log_sigma[y]
        nll = (0.5 * ((x - self.mu[y]) * torch.exp(-ls)) ** 2 + ls).sum((1, 2)) - logdet
        return nll.mean() / x[0].numel()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--preset', default='tiny', choices=sorted(PRESETS))
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Tarflow(**PRESETS[a.preset])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)

    def step():
        img = torch.rand(a.batch, 1, 28, 28) + 0.1 * torch.randn(a.batch, 1, 28, 28)
        y = torch.randint(0, 10, (a.batch,))
        loss = model(img, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        step()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    row = dict(preset=a.preset, backend=f'pytorch {torch.__version__}', threads=a.threads, batch=a.batch,
               params=sum(p.numel() for p in model.parameters()), trainImagesPerSec=a.steps * a.batch / dt,
               stepMs=1000 * dt / a.steps, cpuMsPerStep=1000 * cpu / a.steps)
    print(json.dumps(row) if a.json else f"{a.preset} batch {a.batch}, {a.threads} thread(s): {row['trainImagesPerSec']:.1f} img/s, {row['stepMs']:.0f} ms/step ({row['cpuMsPerStep']:.0f} ms CPU), {row['params']} params")


if __name__ == '__main__':
    main()
