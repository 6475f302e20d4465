#!/usr/bin/env bash
# The webgpu backend on a bare GPU machine (Linux x86-64, an NVIDIA GPU and its driver; no Node.js, no Redis, no network),
# from the repository root, with .gpu-bundle/ made beforehand by scripts/gpu-bundle.sh:
#
#   bash scripts/gpu-check.sh [OUTDIR]        # OUTDIR default: $OUT, else ./gpu-check-out
#
# Unpacks the bundle to /tmp and runs, each step under its own timeout and all within GPU_CHECK_BUDGET_S (default 450 s):
#   machine     nvidia-smi, the Vulkan driver found
#   doctor      pnpm run doctor (the adapter: vendor, architecture, driver)
#   check       pnpm check:webgpu: the model's properties on the GPU, the tiny preset's first 50 losses vs wasm
#   bench 64    bench:train for tiny, small and paper at batch 64 (with sampling and classification rates)
#   torch       scripts/torch-tarflow-bench.py: the same TARFlow shapes in PyTorch on the same GPU
#   smoke       the smoke sweep end to end: its own redis-server on a free port, a temp DB, two GPU-bound local workers
#   bench 256   bench:train for tiny, small and paper at batch 256
#   wasm-paper  the paper preset on wasm (one CPU core), the reference for the 50× goal, if time is left
# and writes ONE results file, OUTDIR/gpu-check.json, plus OUTDIR/gpu-check.log (every step's output) and
# OUTDIR/gpu-check.md (its figures as Markdown tables, for BENCHMARKS.md).
#
# Rehearsal on a CPU machine: GPU_CHECK_BACKEND=wasm (workers and bench on wasm) or DAWNNODE_BACKEND=null (webgpu on
# Dawn's null adapter: plumbing only, numbers meaningless); GPU_CHECK_QUICK=1 shortens every step; GPU_CHECK_PYTHON
# names a python with torch.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=${GPU_BUNDLE:-$ROOT/.gpu-bundle/ablate-gpu.tar.xz}
OUTDIR=${1:-${OUT:-$ROOT/gpu-check-out}}
BACKEND=${GPU_CHECK_BACKEND:-webgpu}
QUICK=${GPU_CHECK_QUICK:-0}
BUDGET=${GPU_CHECK_BUDGET_S:-450}
PY=${GPU_CHECK_PYTHON:-python3}
START=$(date +%s)
mkdir -p "$OUTDIR"
LOG=$OUTDIR/gpu-check.log
: >"$LOG"
W=$(mktemp -d /tmp/gpu-check.XXXXXX)
STEPS=$W/steps.tsv
: >"$STEPS"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -f "$W/redis.pid" ] && kill "$(cat "$W/redis.pid")" 2>/dev/null
  true
}
trap cleanup EXIT
log() { printf '[%4ss] %s\n' "$(($(date +%s) - START))" "$*" | tee -a "$LOG" >&2; }
left() { echo $((BUDGET - ($(date +%s) - START))); }

# step NAME LIMIT_S CMD...: runs CMD with stdout to $W/NAME.out, stderr to the log, under min(LIMIT, budget left).
step() {
  local name=$1 limit=$2 rest t0 rc
  shift 2
  rest=$(left)
  if [ "$rest" -lt 15 ]; then
    log "skip $name: budget spent"
    printf '%s\t%s\t%s\t%s\n' "$name" skipped 0 "$limit" >>"$STEPS"
    return 0
  fi
  [ "$limit" -gt $((rest - 5)) ] && limit=$((rest - 5))
  log "step $name (timeout ${limit}s): $*"
  t0=$(date +%s)
  timeout -k 5 "$limit" "$@" >"$W/$name.out" 2>>"$LOG"
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - t0))" "$limit" >>"$STEPS"
  { echo "--- $name: exit $rc after $(($(date +%s) - t0)) s; stdout:"; head -c 20000 "$W/$name.out"; echo; } >>"$LOG"
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && log "$name: TIMED OUT after ${limit}s"
  return 0
}

# --- unpack -------------------------------------------------------------------------------------------------------
[ -f "$BUNDLE" ] || { log "no bundle at $BUNDLE: run bash scripts/gpu-bundle.sh first (on a machine with the registries)"; exit 2; }
log "unpacking $BUNDLE ($(($(stat -c %s "$BUNDLE") / 1048576)) MiB)"
if command -v xz >/dev/null; then
  xz -dc "$BUNDLE" | tar -x -C "$W" || { log "unpacking failed"; exit 2; }
else
  "$PY" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$BUNDLE" "$W" || { log "unpacking failed (no xz; python's tarfile)"; exit 2; }
fi
A=$W/ablate
export PATH=$A/.runtime/bin:$PATH
# The Vulkan loader and GLVND from the bundle; the driver's own libraries (a container mounts them under /usr/local/nvidia).
export LD_LIBRARY_PATH=$A/.runtime/lib/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d; done
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  icd=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/local/share/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
  [ -n "$icd" ] || icd=$(timeout 20 find / -xdev \( -path /proc -o -path /sys -o -path "$W" \) -prune -o -name 'nvidia_icd*.json' -print 2>/dev/null | head -1)
  [ -n "$icd" ] && export VK_DRIVER_FILES=$icd
fi
# The ICD (libGLX_nvidia.so.0) must be loadable by name: add its folder when the linker cache does not know it.
if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia.so.0'; then
  glx=$(ls /usr/local/nvidia/lib64/libGLX_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 2>/dev/null | head -1)
  [ -n "$glx" ] || glx=$(timeout 20 find / -xdev \( -path /proc -o -path /sys -o -path "$W" \) -prune -o -name 'libGLX_nvidia.so.0' -print 2>/dev/null | head -1)
  [ -n "$glx" ] && LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$(dirname "$glx")
fi
export LD_LIBRARY_PATH
log "node $(node --version); Vulkan driver manifest: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-default search of the loader}}; LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# --- machine ------------------------------------------------------------------------------------------------------
step machine 20 bash -c 'nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"'
NGPU=$(grep -c ', ' "$W/machine.out" 2>/dev/null)
[ "${NGPU:-0}" -ge 1 ] || NGPU=1

# --- redis + environment ------------------------------------------------------------------------------------------
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
LD_LIBRARY_PATH=$A/.runtime/lib/redis redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$W/redis.pid" --dir "$W" --logfile "$W/redis.log" || log "redis-server did not start"
export REDIS_URL=redis://127.0.0.1:$PORT SWEEP_DB=$W/ablate.db ARTIFACT_DIR=$W/artifacts CLASSIFIER_DIR=$W/classifiers
export QUEUE_PREFIX=gpucheck-$$ LOG_FORMAT=json XDG_CACHE_HOME=$W/cache TFJS_BACKEND=$BACKEND
export CLASSIFIER_EPOCHS=${CLASSIFIER_EPOCHS:-2}
for _ in $(seq 50); do node -e 'const s=require("net").connect(+process.argv[1],"127.0.0.1",()=>{s.write("PING\r\n")});s.on("data",d=>process.exit(String(d).includes("PONG")?0:1));s.on("error",()=>process.exit(1))' "$PORT" && break; sleep 0.2; done
log "redis-server on port $PORT; SWEEP_DB, ARTIFACT_DIR and the digit classifier's cache under $W"

cd "$A" || exit 2
# --- doctor -------------------------------------------------------------------------------------------------------
step doctor 60 node apps/doctor/dist/main.js --json --backend "$BACKEND"

# --- properties and loss parity on the GPU ------------------------------------------------------------------------
if [ "$BACKEND" = webgpu ]; then
  if [ "$QUICK" = 1 ]; then step check 120 node apps/worker/dist/check-webgpu.js --json --parity-preset test --parity-steps 3
  else step check 100 node apps/worker/dist/check-webgpu.js --json --parity-preset tiny --parity-steps 50; fi
fi

# --- bench:train on the GPU ---------------------------------------------------------------------------------------
bench_batch() {
  local batch=$1 preset steps samples limit batch_
  for preset in tiny small paper; do
    if [ "$QUICK" = 1 ]; then steps=1; samples=$([ "$batch" = 64 ] && [ "$preset" = tiny ] && echo 2 || echo 0); limit=60; [ "$preset" = tiny ] || continue; batch_=8
    else steps=$([ "$preset" = tiny ] && echo 20 || echo 10); samples=$([ "$batch" = 64 ] && echo 20 || echo 0); limit=$([ "$preset" = paper ] && echo 75 || echo 50); batch_=$batch; fi
    step "bench-$preset-$batch" "$limit" node apps/worker/dist/bench/bench-train.js --json --presets "$preset" --backends "$BACKEND" --batch "$batch_" --steps "$steps" --samples "$samples"
  done
}
bench_batch 64

# --- PyTorch on the same shapes -----------------------------------------------------------------------------------
if [ "$QUICK" = 1 ]; then step torch 90 "$PY" "$ROOT/scripts/torch-tarflow-bench.py" --json --presets tiny --batches 8 --steps 2
else step torch 90 "$PY" "$ROOT/scripts/torch-tarflow-bench.py" --json --steps 20; fi

# --- the smoke sweep with two GPU-bound local workers -------------------------------------------------------------
for i in 0 1; do
  if [ "$BACKEND" = webgpu ] || [ "$BACKEND" = tensorflow ]; then gpuflag=(--gpus $((i % NGPU))); else gpuflag=(--concurrency 1); fi
  node apps/worker/dist/main.js --backend "$BACKEND" "${gpuflag[@]}" >"$W/worker$i.log" 2>&1 &
  PIDS+=($!)
  log "worker $i: pid $! (${gpuflag[*]} --backend $BACKEND)"
done
for _ in $(seq 100); do
  [ "$(cat "$W"/worker0.log "$W"/worker1.log 2>/dev/null | grep -c '"worker ready"')" -ge 2 ] && break
  sleep 0.3
done
step smoke 180 node apps/scheduler/dist/sweep-main.js sweeps/smoke.yaml --workers 0
step smoke-runs 20 node apps/scheduler/dist/query-main.js "SELECT sr.label, r.status, r.backend, r.device, r.worker_id, r.final_step, r.error FROM sweep_runs sr JOIN runs r ON r.id = sr.run_id ORDER BY sr.label" --format json
# Stop the workers and their training children (a child still training would share the GPU with the next bench).
for p in "${PIDS[@]}"; do pkill -TERM -P "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
sleep 2
for p in "${PIDS[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
{ for i in 0 1; do echo "--- worker $i log (tail)"; tail -c 6000 "$W/worker$i.log"; done; } >>"$LOG"

bench_batch 256

# --- the reference: paper on wasm, one CPU core -------------------------------------------------------------------
if [ "$QUICK" != 1 ]; then step wasm-paper 60 node apps/worker/dist/bench/bench-train.js --json --presets paper --backends wasm --batch 16 --steps 1 --samples 0; fi

# --- one results file ---------------------------------------------------------------------------------------------
node - "$W" "$OUTDIR/gpu-check.json" "$BACKEND" "$BUDGET" "$(($(date +%s) - START))" <<'EOF'
const fs = require('node:fs'), path = require('node:path');
const [w, outFile, backend, budget, elapsed] = process.argv.slice(2);
const read = (n) => { try { return fs.readFileSync(path.join(w, `${n}.out`), 'utf8'); } catch { return ''; } };
const json = (n) => { const t = read(n).trim(); try { return JSON.parse(t); } catch { const last = t.split('\n').filter((l) => l.startsWith('{')).pop(); try { return last ? JSON.parse(last) : null; } catch { return null; } } };
const steps = fs.readFileSync(path.join(w, 'steps.tsv'), 'utf8').trim().split('\n').filter(Boolean).map((l) => {
  const [name, rc, seconds, limit] = l.split('\t');
  return { name, exit: rc === 'skipped' ? null : Number(rc), seconds: Number(seconds), limit: Number(limit), timedOut: rc === '124' || rc === '137', skipped: rc === 'skipped' };
});
const ok = (n) => steps.find((s) => s.name === n)?.exit === 0;
const bench = steps.filter((s) => s.name.startsWith('bench-')).flatMap((s) => (json(s.name)?.rows ?? []).map((r) => ({ ...r, seconds: s.seconds })));
const torch = json('torch');
const runs = json('smoke-runs');
const wasmPaper = json('wasm-paper')?.rows?.[0] ?? null;
const ratios = bench.map((r) => {
  const t = torch?.rows?.find((x) => x.preset === r.preset && x.batch === r.batch);
  return { preset: r.preset, batch: r.batch, ours: r.trainImagesPerSec, torch: t?.trainImagesPerSec ?? null, oursOverTorch: t ? r.trainImagesPerSec / t.trainImagesPerSec : null,
    oursOverWasmPaper: r.preset === 'paper' && wasmPaper ? r.trainImagesPerSec / wasmPaper.trainImagesPerSec : null };
});
const smokeOk = ok('smoke') && Array.isArray(runs) && runs.length === 2 && runs.every((r) => r.status === 'succeeded' && r.backend === backend);
const result = {
  date: new Date().toISOString(), backend, budgetSeconds: Number(budget), elapsedSeconds: Number(elapsed),
  gpus: read('machine').trim().split('\n').filter(Boolean), node: process.version, bundle: fs.readFileSync(path.join(w, 'ablate/.runtime/VERSIONS'), 'utf8').trim().split('\n'),
  env: { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null, DAWNNODE_BACKEND: process.env.DAWNNODE_BACKEND ?? null },
  steps, doctor: json('doctor'), check: json('check'),
  smoke: { ok: smokeOk, runs }, bench, torch, wasmPaper, ratios,
};
fs.writeFileSync(outFile, `${JSON.stringify(result, null, 1)}\n`);
const f = (x, d = 1) => (x == null ? '-' : Number(x).toFixed(d));
// The same figures as Markdown, for BENCHMARKS.md.
const md = [`gpu-check ${result.date.slice(0, 10)}: ${result.gpus.join('; ') || 'no nvidia-smi'}; backend ${backend}; ${result.doctor?.checks?.find((c) => c.name === 'backend')?.detail ?? ''}`, '',
  '| preset | batch | params | train img/s | step ms | sample s/100 (cache) | classify img/s | PyTorch img/s | ours / PyTorch |', '|---|---|---|---|---|---|---|---|---|',
  ...bench.map((r) => { const t = ratios.find((x) => x.preset === r.preset && x.batch === r.batch);
    return `| ${r.preset} | ${r.batch} | ${r.params} | ${f(r.trainImagesPerSec)} | ${f(r.stepMs, 0)} | ${f(r.sampleSecPer100Cached, 2)} | ${f(r.classifyImagesPerSec, 0)} | ${f(t?.torch)} | ${f(t?.oursOverTorch, 3)} |`; }),
  '', `paper on wasm (one CPU core, batch ${wasmPaper?.batch ?? '-'}): ${f(wasmPaper?.trainImagesPerSec, 2)} img/s`,
  `smoke sweep on two ${backend} workers: ${smokeOk ? 'succeeded' : 'FAILED'} (${(runs ?? []).map((r) => `${r.label}: ${r.status} on ${r.worker_id}`).join(', ')})`,
  `properties and loss parity: ${result.check ? (result.check.ok ? 'ok' : 'FAILED') : 'not run'}${result.check?.parity ? ` (max relative loss difference ${Number(result.check.parity.maxRelativeDiff).toExponential(2)} over ${result.check.parity.steps} steps)` : ''}`,
  '', '| step | exit | seconds |', '|---|---|---|', ...steps.map((x) => `| ${x.name} | ${x.skipped ? 'skipped' : x.timedOut ? 'timed out' : x.exit} | ${x.seconds} |`)];
fs.writeFileSync(outFile.replace(/\.json$/, '.md'), `${md.join('\n')}\n`);
console.log(`results: ${outFile}`);
console.log(`smoke sweep on ${backend} workers: ${smokeOk ? 'succeeded' : 'FAILED'}; check: ${result.check ? (result.check.ok ? 'ok' : 'FAILED') : 'not run'}`);
for (const r of ratios) console.log(`${r.preset} b${r.batch}: ${f(r.ours)} img/s, torch ${f(r.torch)}, ours/torch ${f(r.oursOverTorch, 3)}${r.oursOverWasmPaper ? `, ours/wasm ${f(r.oursOverWasmPaper, 0)}×` : ''}`);
EOF
log "done in $(($(date +%s) - START)) s"
