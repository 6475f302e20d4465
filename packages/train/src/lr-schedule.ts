/** Linear warmup from 0 to `lr` over `warmupSteps`, then cosine decay to `lr · minLrRatio` at `totalSteps`. */
export interface LrSchedule {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  minLrRatio: number;
}

/** Learning rate for the update that produces step `step` (1-based: the first update is step 1). */
export function lrAt(s: LrSchedule, step: number): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / decaySteps));
  const minLr = s.lr * s.minLrRatio;
  return minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
