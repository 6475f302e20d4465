"""ablate_client: report metrics, checkpoints and artifacts from your own training program to an ablate worker.

One file, no dependencies (Python 3.8+). Copy it next to your script or put clients/python on PYTHONPATH.

    import ablate_client as ablate
    run = ablate.init()                       # reads ABLATE_* from the environment
    cfg = run.config                          # the run's resolved config (a dict)
    start = 0
    if run.resume:                            # the newest checkpoint you reported, when the run resumes
        start = load(run.resume)
    for step in range(start + 1, steps + 1):
        ...
        run.log(step, {"loss": loss})
        if step % 500 == 0 or run.should_stop:
            p = run.checkpoint_path(step, ".pt")
            save(p)
            run.checkpoint(step, p)
        if run.should_stop:                   # SIGTERM: the worker wants the run back (released or cancelled)
            break

The protocol (README, "Your own training program"): JSON lines on the file descriptor ABLATE_EVENTS_FD:
    {"step": 100, "metrics": {"loss": 0.31}}
    {"step": 250, "checkpoint": "<path inside ABLATE_RUN_DIR>"}
    {"step": 250, "artifact": "samples", "path": "<path inside ABLATE_RUN_DIR>"}
    {"step": 250, "mu_norms": [1.2, 0.8, ...]}       (one per class: the TARFlow ‖μ_c‖ panel)
    {"step": 3000, "samples": "<.f32 file>", "shape": [N, 28, 28, 1], "kind": "raw", "temperature": 1.0}
                                                      (generated digits: the worker's two judges label them)
Run outside a worker (no ABLATE_EVENTS_FD), events go to <run dir>/events.jsonl and the run dir is ./ablate-run.
"""
import json
import math
import os
import signal

__all__ = ["init", "Run"]


def _number(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


class Run:
    def __init__(self, env=None, handle_sigterm=True):
        env = os.environ if env is None else env
        self.run_id = env.get("ABLATE_RUN_ID", "local")
        self.run_dir = os.path.abspath(env.get("ABLATE_RUN_DIR") or "ablate-run")
        os.makedirs(self.run_dir, exist_ok=True)
        config_path = env.get("ABLATE_CONFIG")
        self.config = {}
        if config_path:
            with open(config_path, "r", encoding="utf-8") as f:
                self.config = json.load(f)
        self.resume = env.get("ABLATE_RESUME") or None
        fd = env.get("ABLATE_EVENTS_FD")
        if fd:
            self._out = os.fdopen(int(fd), "w", buffering=1, encoding="utf-8")
        else:
            self._out = open(os.path.join(self.run_dir, "events.jsonl"), "a", buffering=1, encoding="utf-8")
        self.should_stop = False
        if handle_sigterm:
            signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame):
        self.should_stop = True

    def _write(self, event, total_steps=None):
        if total_steps is not None:
            event["total_steps"] = int(total_steps)
        self._out.write(json.dumps(event, allow_nan=False) + "\n")
        self._out.flush()

    def log(self, step, metrics, total_steps=None):
        """Metrics at a step: {"loss": 0.3, "eval/nll": 1.2}. NaN and infinities are allowed."""
        self._write({"step": int(step), "metrics": {str(k): _number(v) for k, v in metrics.items()}}, total_steps)

    def mu_norms(self, step, norms):
        """One norm per class (index = class): stored in the mu_norms table, drawn by the report's ‖μ‖ panel."""
        self._write({"step": int(step), "mu_norms": [_number(v) for v in norms]})

    def checkpoint_path(self, step, suffix=".ckpt"):
        """A fresh path for the checkpoint of `step`, inside the run folder (a resumed run checks it is unchanged)."""
        d = os.path.join(self.run_dir, "checkpoints")
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, "step-%08d%s" % (int(step), suffix))

    def checkpoint(self, step, path, keep=2):
        """Reports a checkpoint you have written (a file or a folder inside the run folder); the run resumes from the
        newest one reported. The worker deletes older reported ones past the newest `keep` (at least 2), but only once
        this one is safely recorded as the run's resume point (never the one a resumed run still depends on). Run by hand
        (no worker), nothing is deleted."""
        self._write({"step": int(step), "checkpoint": os.path.abspath(path), "keep": max(2, int(keep))})

    def artifact(self, step, kind, path):
        """A file the run made (kind: a-z, 0-9, _ . -, e.g. "samples"), inside the run folder."""
        self._write({"step": int(step), "artifact": str(kind), "path": os.path.abspath(path)})

    def samples(self, step, data, shape, kind="raw", temperature=1.0):
        """Generated digits for the worker's two digit judges, which record their class-consistency and confusions
        (metrics eval/consistency/<kind>/t<T>[/<judge>], as for the built-in trainer). `data`: the images as float32
        little-endian bytes (numpy: `a.astype("<f4").tobytes()`) or a flat sequence of floats, shape (N, H, W, C) in
        [-1, 1], class-major: the first N/10 of class 0, then class 1, and so on. `kind`: "raw" or "denoised"."""
        import array
        import sys

        if not isinstance(data, (bytes, bytearray, memoryview)):
            a = array.array("f", data)
            if sys.byteorder != "little":
                a.byteswap()
            data = a.tobytes()
        d = os.path.join(self.run_dir, "samples")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, "step-%08d-%s-t%s.f32" % (int(step), kind, float(temperature)))
        with open(p, "wb") as f:
            f.write(data)
        self._write({"step": int(step), "samples": p, "shape": [int(v) for v in shape], "kind": str(kind), "temperature": float(temperature)})

    def close(self):
        try:
            self._out.close()
        except OSError:
            pass


def init(env=None, handle_sigterm=True):
    """The current run, from ABLATE_RUN_ID, ABLATE_CONFIG, ABLATE_RUN_DIR, ABLATE_RESUME and ABLATE_EVENTS_FD."""
    return Run(env, handle_sigterm)
