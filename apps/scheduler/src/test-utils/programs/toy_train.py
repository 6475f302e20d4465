"""A toy training program for the protocol tests: dependency-free, deterministic metrics, resumable.

config: steps, checkpoint_every, sleep_s, seed, and fault: { bad_lines: n (malformed lines written at step 3),
outside: true (report a checkpoint outside the run folder at step 2) } (toy-train.js also has hang_after: n). loss at step s is 1 / (s + seed + 1), whatever attempt reports it."""
import json
import os
import sys
import time

sys.path.insert(0, os.environ["ABLATE_CLIENT_PY"])
import ablate_client as ablate  # noqa: E402

run = ablate.init()
cfg = run.config
steps = int(cfg.get("steps", 20))
every = int(cfg.get("checkpoint_every", 5))
sleep_s = float(cfg.get("sleep_s", 0.02))
seed = int(cfg.get("seed", 0))
fault = cfg.get("fault", {})
start = 0
if run.resume:
    with open(run.resume) as f:
        start = json.load(f)["step"]
    print("resuming from step %d (%s)" % (start, run.resume), flush=True)
else:
    print("starting from step 0", flush=True)

for step in range(start + 1, steps + 1):
    time.sleep(sleep_s)
    run.log(step, {"loss": 1.0 / (step + seed + 1), "eval/acc": step / steps}, total_steps=steps)
    if step == 3:
        for _ in range(int(fault.get("bad_lines", 0))):
            run._out.write("this is not json\n")
            run._out.flush()
    if step == 2 and fault.get("outside"):
        run._write({"step": step, "checkpoint": os.path.join(run.run_dir, "..", "escape.json")})
    if step % every == 0 or run.should_stop:
        p = run.checkpoint_path(step, ".json")
        with open(p, "w") as f:
            json.dump({"step": step}, f)
        run.checkpoint(step, p)
    if run.should_stop:
        print("SIGTERM: checkpointed at step %d, exiting" % step, flush=True)
        sys.exit(0)
img = os.path.join(run.run_dir, "final.txt")
with open(img, "w") as f:
    f.write("done\n")
run.artifact(steps, "summary", img)
print("finished", flush=True)
