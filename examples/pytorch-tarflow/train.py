"""TARFlow with per-class learned Gaussian priors, in PyTorch: the seed's model (shared/seed/unconditional-flows-
conditional-generation.md), written for ablate as a program a sweep runs (`program:` in sweeps/prior-init-torch.yaml).

The same model as packages/tarflow (the tfjs version), piece by piece:
  patchify (B, H, W, C) → (B, T, D) · flow blocks: a causal transformer (pre-LN attention + GELU MLP) predicts, for each
  token, shift b and log-scale a of the next one; z_t = (x_t − b) · exp(−a), a clipped to ±log_scale_clip; odd blocks
  flip the token order; proj_out starts at zero, so every block is the identity at init · one diagonal Gaussian
  N(μ_c, σ_c²) per class in z space, μ_c initialised zero / randn × std / data (one training image of the class)
  · loss −log p(x|c) per dimension = prior term + logdet term · AdamW with warmup + cosine, the prior in its own group
  (lr × lr_scale, no weight decay) · held-out NLL, bits/dim and one-pass accuracy argmax_c log N(z; μ_c, σ_c²) ·
  samples z ~ N(μ_c, σ_c²) inverted token by token, then one step of score denoising x + σ²∇ log p(x|c).
The data is the embedded MNIST split exactly as the built-in trainer splits it (export-mnist.js). Not the same numbers as
tfjs for a seed: the two draw their random numbers differently.

Runs on CPU or CUDA (config `device`: auto | cpu | cuda). Reports through clients/python/ablate_client.py; run by hand
with `ABLATE_CONFIG=config.json python3 train.py` (events then go to ablate-run/events.jsonl).
"""
import json
import math
import os
import struct
import subprocess
import sys
import time
import zlib

# config `threads` must bound OpenBLAS's pool too: torch.set_num_threads alone leaves Debian's OpenBLAS starting a
# second thread of its own (it spins, and two such runs side by side fight over 2 cores). Read before torch loads it.
try:
    with open(os.environ["ABLATE_CONFIG"], "r", encoding="utf-8") as _f:
        _threads = json.load(_f).get("threads")
    if isinstance(_threads, int) and _threads > 0:
        for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(_v, str(_threads))
except (KeyError, OSError, ValueError):
    pass

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
import ablate_client  # noqa: E402

PRESETS = {
    "paper": dict(patch_size=2, width=256, num_blocks=6, layers_per_block=4, head_dim=64),
    "small": dict(patch_size=2, width=128, num_blocks=4, layers_per_block=2, head_dim=64),
    "tiny": dict(patch_size=4, width=64, num_blocks=2, layers_per_block=2, head_dim=64),
    "test": dict(patch_size=7, width=16, num_blocks=2, layers_per_block=1, head_dim=8),
}
DEFAULTS = {
    "seed": 0,
    "device": "auto",
    "threads": 1,
    "model": {"preset": "tiny", "mlp_ratio": 4, "nvp": True, "log_scale_clip": 3.0},
    "prior": {"mu_init": "randn", "mu_std": 1.0, "lr_scale": 1.0},
    "data": {"test_fraction": 1 / 6, "split_seed": 0},
    "train": {"steps": 3000, "batch_size": 64, "lr": 3e-3, "warmup_steps": 50, "min_lr_ratio": 0.0, "weight_decay": 1e-4,
              "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "grad_clip": 0.0, "noise_std": 0.1, "metrics_every_steps": 10},
    "eval": {"every_steps": 500, "examples": 1000, "batch_size": 250, "samples_per_class": 10, "temperature": 1.0,
             "consistency_samples_per_class": 50, "final_consistency_samples_per_class": 100, "consistency_temperatures": [1.0, 0.7]},
    "checkpoint": {"every_steps": 500},
}


def merged(defaults, given):
    out = dict(defaults)
    for k, v in given.items():
        out[k] = merged(defaults[k], v) if isinstance(v, dict) and isinstance(defaults.get(k), dict) else v
    return out


# ---- data: the embedded MNIST, split as @ablate/data splits it ----

def read_ablmnist(path):
    """packages/data/src/mnist-cache.ts: 'ABLMNIST', version, N, H, W, classes, sha256; then N·H·W pixels, N labels."""
    with open(path, "rb") as f:
        buf = f.read()
    magic, version, n, h, w, classes = struct.unpack_from("<8sIIIII", buf, 0)
    if magic != b"ABLMNIST" or version != 1 or len(buf) != 64 + n * h * w + n:
        raise SystemExit("%s: not an ABLMNIST v1 file of the right size" % path)
    pixels = torch.frombuffer(bytearray(buf[64:64 + n * h * w]), dtype=torch.uint8).reshape(n, h, w, 1)
    labels = torch.frombuffer(bytearray(buf[64 + n * h * w:]), dtype=torch.uint8).long()
    return pixels.float() / 255.0, labels, classes


def load_mnist(data_cfg):
    f, s = repr_number(data_cfg["test_fraction"]), str(int(data_cfg["split_seed"]))
    cache = os.environ.get("MNIST_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ablate")
    files = [os.path.join(cache, "mnist-%s-%s-%s.bin" % (f, s, part)) for part in ("train", "test")]
    if not all(os.path.exists(p) for p in files):
        subprocess.run(["node", os.path.join(HERE, "export-mnist.js"), cache, f, s], check=True, stdout=sys.stdout)
    return read_ablmnist(files[0]), read_ablmnist(files[1])


def repr_number(x):
    """The number as JavaScript prints it (String(1/6) = '0.16666666666666666'), so both sides name the same file."""
    r = repr(float(x))
    return r[:-2] if r.endswith(".0") else r


# ---- the model ----

def patchify(x, p):  # (B, H, W, C) → (B, T, D), patches row-major, each in (py, px, c) order
    B, H, W, C = x.shape
    return x.reshape(B, H // p, p, W // p, p, C).permute(0, 1, 3, 2, 4, 5).reshape(B, (H // p) * (W // p), p * p * C)


def unpatchify(z, p, size, C=1):  # (B, T, D) → (B, H, W, C)
    B, g = z.shape[0], size // p
    return z.reshape(B, g, g, p, p, C).permute(0, 1, 3, 2, 4, 5).reshape(B, size, size, C)


class Layer(nn.Module):
    """ml-tarflow AttentionBlock: h + attn(LN(h)), then h + mlp(LN(h))."""

    def __init__(self, width, head_dim, mlp_ratio):
        super().__init__()
        self.heads = width // head_dim
        self.norm1, self.qkv, self.proj = nn.LayerNorm(width), nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.norm2, self.fc1, self.fc2 = nn.LayerNorm(width), nn.Linear(width, mlp_ratio * width), nn.Linear(mlp_ratio * width, width)

    def forward(self, h, mask):  # h (B, t, W), mask (t, t) additive
        B, t, W = h.shape
        q, k, v = self.qkv(self.norm1(h)).reshape(B, t, 3, self.heads, W // self.heads).permute(2, 0, 3, 1, 4)  # each (B, nh, t, hd)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(W // self.heads) + mask  # (B, nh, t, t)
        h = h + self.proj((att.softmax(-1) @ v).transpose(1, 2).reshape(B, t, W))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h)), approximate="tanh"))


class FlowBlock(nn.Module):
    def __init__(self, T, D, width, layers, head_dim, mlp_ratio, flip, nvp, clip):
        super().__init__()
        self.flip, self.nvp, self.clip, self.D = flip, nvp, clip, D
        self.proj_in = nn.Linear(D, width)
        self.pos = nn.Parameter(torch.randn(T, width) * 0.01)  # row t belongs to token t (permuted with the tokens)
        self.layers = nn.ModuleList([Layer(width, head_dim, mlp_ratio) for _ in range(layers)])
        self.proj_out = nn.Linear(width, 2 * D if nvp else D)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)  # the identity at init
        self.register_buffer("mask", torch.triu(torch.full((T, T), -1e9), diagonal=1))  # causal in the block's order

    def order(self, x):  # original ↔ block order (its own inverse)
        return x.flip(1) if self.flip else x

    def params_of(self, xo):  # xo (B, t, D) in block order → a, b (B, t, D) predicted for the NEXT token
        t = xo.shape[1]
        pos = self.pos.flip(0) if self.flip else self.pos
        h = self.proj_in(xo) + pos[:t]
        for layer in self.layers:
            h = layer(h, self.mask[:t, :t])
        out = self.proj_out(h)
        if self.nvp:
            return out[..., :self.D].clamp(-self.clip, self.clip), out[..., self.D:]
        return torch.zeros_like(out), out

    def forward(self, x):  # x → z, logdet (B) = −Σ a
        xo = self.order(x)
        a, b = self.params_of(xo)
        a = F.pad(a[:, :-1], (0, 0, 1, 0))  # token t gets what token t−1 predicted; the first passes through
        b = F.pad(b[:, :-1], (0, 0, 1, 0))
        return self.order((xo - b) * torch.exp(-a)), -a.sum((1, 2))

    @torch.no_grad()
    def reverse(self, z):  # token by token: x_{s+1} = z_{s+1} · exp(a_s) + b_s
        zo = self.order(z)
        xo = zo.clone()
        for s in range(zo.shape[1] - 1):
            a, b = self.params_of(xo[:, : s + 1])
            xo[:, s + 1] = zo[:, s + 1] * torch.exp(a[:, s]) + b[:, s]
        return self.order(xo)


class Tarflow(nn.Module):
    def __init__(self, m, size=28, classes=10):
        super().__init__()
        self.p, self.size = m["patch_size"], size
        T, D = (size // self.p) ** 2, self.p * self.p
        self.blocks = nn.ModuleList([FlowBlock(T, D, m["width"], m["layers_per_block"], m["head_dim"], m["mlp_ratio"], i % 2 == 1, m["nvp"], m["log_scale_clip"]) for i in range(m["num_blocks"])])
        self.mu = nn.Parameter(torch.zeros(classes, T * D))  # (C, N)
        self.log_sigma = nn.Parameter(torch.zeros(classes, T * D))

    def forward(self, x):  # x (B, H, W, C) → z (B, N), logdet (B)
        z, logdet = patchify(x, self.p), torch.zeros(x.shape[0], device=x.device)
        for blk in self.blocks:
            z, ld = blk(z)
            logdet = logdet + ld
        return z.flatten(1), logdet

    def prior_log_density(self, z, y):  # log N(z; μ_y, σ_y²), (B)
        mu, ls = self.mu[y], self.log_sigma[y]
        return -0.5 * (((z - mu) * torch.exp(-ls)) ** 2).sum(1) - ls.sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)

    def nll(self, x, y):  # per dimension, nats: (loss, prior term, logdet term)
        z, logdet = self(x)
        N = z.shape[1]
        prior_term = -self.prior_log_density(z, y).mean() / N
        logdet_term = -logdet.mean() / N
        return prior_term + logdet_term, prior_term, logdet_term

    def class_logits(self, x):  # log N(z; μ_c, σ_c²) for every c: (B, C); logdet does not depend on c
        z, _ = self(x)
        return torch.stack([self.prior_log_density(z, torch.full((z.shape[0],), c, device=z.device, dtype=torch.long)) for c in range(self.mu.shape[0])], 1)

    def sample(self, y, temperature, noise_std, gen):
        mu, sigma = self.mu[y], torch.exp(self.log_sigma[y])
        eps = torch.randn(mu.shape, generator=gen, device="cpu").to(mu.device)
        z = (mu + sigma * temperature * eps).reshape(len(y), -1, self.p * self.p)
        with torch.no_grad():
            for blk in reversed(self.blocks):
                z = blk.reverse(z)
        raw = unpatchify(z, self.p, self.size)
        if noise_std == 0:
            return raw, raw
        x = raw.clone().requires_grad_(True)
        with torch.enable_grad():
            zz, logdet = self(x)
            (score,) = torch.autograd.grad((self.prior_log_density(zz, y) + logdet).sum(), x)
        return raw, (raw + noise_std ** 2 * score).detach()


# ---- training ----

def lr_at(t, step):
    if t["warmup_steps"] > 0 and step <= t["warmup_steps"]:
        return t["lr"] * step / t["warmup_steps"]
    progress = min(1.0, max(0.0, (step - t["warmup_steps"]) / max(1, t["steps"] - t["warmup_steps"])))
    lo = t["lr"] * t["min_lr_ratio"]
    return lo + 0.5 * (t["lr"] - lo) * (1 + math.cos(math.pi * progress))


def png_grid(images, rows, cols):
    """(rows·cols, H, W, 1) in [−1, 1] → an 8-bit grayscale PNG (no PIL needed)."""
    n, h, w = images.shape[0], images.shape[1], images.shape[2]
    img = ((images[..., 0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    grid = torch.zeros(rows * h, cols * w, dtype=torch.uint8)
    for i in range(min(n, rows * cols)):
        r, c = divmod(i, cols)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = img[i]
    raw = b"".join(b"\x00" + bytes(row.tolist()) for row in grid)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", grid.shape[1], grid.shape[0], 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    run = ablate_client.init()
    cfg = merged(DEFAULTS, run.config)
    m = dict(PRESETS[cfg["model"]["preset"]])
    m.update({k: v for k, v in cfg["model"].items() if k != "preset"})
    t, ev = cfg["train"], cfg["eval"]
    torch.set_num_threads(int(cfg["threads"]))
    device = torch.device("cuda" if cfg["device"] == "cuda" or (cfg["device"] == "auto" and torch.cuda.is_available()) else "cpu")
    print("device %s, torch %s, model %s" % (device, torch.__version__, json.dumps(m)), flush=True)

    (xtr, ytr, classes), (xte, yte, _) = load_mnist(cfg["data"])
    seed = int(cfg["seed"])
    torch.manual_seed(seed)
    model = Tarflow(m, xtr.shape[1], classes)
    init_gen = torch.Generator().manual_seed(seed + 1)
    pr = cfg["prior"]
    with torch.no_grad():
        if pr["mu_init"] == "randn":
            model.mu.copy_(torch.randn(model.mu.shape, generator=init_gen) * float(pr["mu_std"]))
        elif pr["mu_init"] == "data":  # one training image per class, patchified: the z the identity flow gives it
            idx = [int(torch.nonzero(ytr == c)[torch.randint(int((ytr == c).sum()), (1,), generator=init_gen)].item()) for c in range(classes)]
            model.mu.copy_(patchify(xtr[idx] * 2 - 1, m["patch_size"]).flatten(1))
        elif pr["mu_init"] != "zero":
            raise SystemExit("prior.mu_init: expected zero, randn or data, got %r" % pr["mu_init"])
    model.to(device)
    prior_params = [model.mu, model.log_sigma]
    flow_params = [p for n, p in model.named_parameters() if n not in ("mu", "log_sigma")]
    opt = torch.optim.AdamW([
        {"params": flow_params, "weight_decay": t["weight_decay"], "lr_scale": 1.0},
        {"params": prior_params, "weight_decay": 0.0, "lr_scale": float(pr["lr_scale"])},
    ], lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=t["eps"])
    data_gen = torch.Generator().manual_seed(seed + 2)
    step, perm, pos, elapsed_before = 0, torch.randperm(len(ytr), generator=data_gen), 0, 0.0
    if run.resume:
        ck = torch.load(run.resume, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        data_gen.set_state(ck["data_gen"])
        step, perm, pos, elapsed_before = ck["step"], ck["perm"], ck["pos"], ck["elapsed"]
        print("resumed from step %d (%s)" % (step, run.resume), flush=True)
    eval_idx = torch.randperm(len(yte), generator=torch.Generator().manual_seed(seed + 3))[: ev["examples"] or len(yte)]
    xev, yev = xte[eval_idx], yte[eval_idx]
    noise_gen = torch.Generator().manual_seed(seed + 4)
    t0 = time.time()

    def checkpoint():
        p = run.checkpoint_path(step, ".pt")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "data_gen": data_gen.get_state(), "step": step, "perm": perm, "pos": pos,
                    "elapsed": elapsed_before + time.time() - t0}, p)
        run.checkpoint(step, p)

    def report_mu():
        norms = model.mu.detach().norm(dim=1).cpu().tolist()
        run.mu_norms(step, norms)
        run.log(step, {"mu_norm": sum(norms) / len(norms)}, total_steps=t["steps"])

    @torch.no_grad()
    def evaluate():
        model.eval()
        nll_sum, correct = 0.0, 0
        g = torch.Generator().manual_seed(seed + 5)
        for s in range(0, len(yev), ev["batch_size"]):
            x, y = xev[s:s + ev["batch_size"]] * 2 - 1, yev[s:s + ev["batch_size"]]
            noisy = x + t["noise_std"] * torch.randn(x.shape, generator=g)
            nll_sum += model.nll(noisy.to(device), y.to(device))[0].item() * len(y)
            correct += (model.class_logits(x.to(device)).argmax(1).cpu() == y).sum().item()
        nll = nll_sum / len(yev)
        run.log(step, {"eval/nll": nll, "eval/bpd": (nll + math.log(128)) / math.log(2), "eval/accuracy": correct / len(yev)})
        # Mode mixing, as the built-in trainer measures it: samples the worker's two digit judges label (run.samples):
        # the denoised ones at eval.temperature and raw ones at each of eval.consistency_temperatures, per class
        # consistency_samples_per_class, at the final eval at least final_consistency_samples_per_class.
        per = ev["consistency_samples_per_class"]
        if per > 0 and classes == 10:
            if step == t["steps"]:
                per = max(per, ev["final_consistency_samples_per_class"])
            y = torch.arange(classes).repeat_interleave(per).to(device)
            raw, den = model.sample(y, ev["temperature"], t["noise_std"], torch.Generator().manual_seed(seed * 1000 + step + 7))
            sets = [("denoised", ev["temperature"], den)]
            for temp in ev["consistency_temperatures"]:
                if temp == ev["temperature"]:
                    sets.append(("raw", temp, raw))
                else:
                    sets.append(("raw", temp, model.sample(y, temp, 0, torch.Generator().manual_seed(seed * 1000 + step + 11))[0]))
            for kind, temp, imgs in sets:
                a = imgs.detach().float().clamp(-1, 1).cpu().contiguous()
                run.samples(step, a.numpy().astype("<f4").tobytes(), list(a.shape), kind, temp)
        k = ev["samples_per_class"]
        if k > 0:
            y = torch.arange(classes).repeat_interleave(k).to(device)
            raw, den = model.sample(y, ev["temperature"], t["noise_std"], torch.Generator().manual_seed(seed * 1000 + step))
            for kind, imgs in (("samples", raw), ("samples-denoised", den), ("mu", unpatchify(model.mu.detach().reshape(classes, -1, m["patch_size"] ** 2), m["patch_size"], xtr.shape[1]))):
                p = os.path.join(run.run_dir, "images", "step-%08d-%s.png" % (step, kind))
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(png_grid(imgs, classes, k if kind != "mu" else 1))
                run.artifact(step, kind, p)
        model.train()
        print("step %d: held-out %.4f nats/dim, accuracy %.3f" % (step, nll, correct / len(yev)), flush=True)

    if step == 0:
        report_mu()
    window_t, window_n = time.time(), 0
    while step < t["steps"]:
        if pos + t["batch_size"] > len(perm):
            perm, pos = torch.randperm(len(ytr), generator=data_gen), 0
        idx = perm[pos:pos + t["batch_size"]]
        pos += t["batch_size"]
        x = xtr[idx] * 2 - 1
        x = (x + t["noise_std"] * torch.randn(x.shape, generator=noise_gen)).to(device)
        lr = lr_at(t, step + 1)
        for g in opt.param_groups:
            g["lr"] = lr * g["lr_scale"]
        loss, prior_term, logdet_term = model.nll(x, ytr[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"] if t["grad_clip"] > 0 else float("inf"))
        if not (math.isfinite(loss.item()) and math.isfinite(grad_norm.item())):
            run.log(step + 1, {"diverged": 1})
            print("diverged at step %d" % (step + 1), flush=True)
            return 3
        opt.step()
        step += 1
        window_n += len(idx)
        last = step == t["steps"]
        if step % t["metrics_every_steps"] == 0 or last:
            now = time.time()
            l = loss.item()
            run.log(step, {"loss": l, "nll": l, "bpd": (l + math.log(128)) / math.log(2), "prior_term": prior_term.item(), "logdet_term": logdet_term.item(),
                           "grad_norm": grad_norm.item(), "lr": lr, "images_per_sec": window_n / max(now - window_t, 1e-6),
                           "mean_log_sigma": model.log_sigma.detach().mean().item()}, total_steps=t["steps"])
            report_mu()
            window_t, window_n = now, 0
        if last or (ev["every_steps"] > 0 and step % ev["every_steps"] == 0):
            evaluate()
        if last or run.should_stop or (cfg["checkpoint"]["every_steps"] > 0 and step % cfg["checkpoint"]["every_steps"] == 0):
            checkpoint()
        if run.should_stop and not last:
            print("SIGTERM at step %d: checkpointed, exiting" % step, flush=True)
            return 0
    print("finished %d steps in %.1f s" % (step, elapsed_before + time.time() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
