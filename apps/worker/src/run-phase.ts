/**
 * What a run is doing, for the progress bars: the trainer reports its steps (onProgress), the start of an eval and of a
 * checkpoint (onPhase); the eval's parts are told apart by the hooks it calls in order (onEval after the NLL pass, then
 * images and samples; onSamples is the digit classifier's labelling, whose first call may load, train, or wait for the
 * dataset's classifier). The tracker also times evals and checkpoints, so that the ETA counts the ones still to come.
 */
export type RunPhase = 'starting' | 'training' | 'eval-nll' | 'eval-sampling' | 'eval-classifier' | 'checkpoint';

/** What a progress bar says for each phase. */
export const PHASE_LABELS: Record<RunPhase, string> = {
  starting: 'starting (backend, data, model)',
  training: 'training',
  'eval-nll': 'eval: held-out NLL',
  'eval-sampling': 'eval: sampling images',
  'eval-classifier': 'eval: digit classifier labelling',
  checkpoint: 'checkpoint',
};

/** The first use of the digit classifier: it is read from the cache, trained (about a minute), or awaited from another worker. */
export const FIRST_CLASSIFIER_LABEL = 'eval: waiting for the digit classifier (first use: cached, trained, or trained by another worker)';

export interface PhaseInfo {
  phase: RunPhase;
  /** What the bar shows. */
  phaseLabel: string;
  /** Epoch ms when the phase began. */
  phaseSince: number;
  /** Evals still to come after the current step (the final one included), the current one excluded. */
  evalsLeft: number;
  /** Mean seconds of an eval so far (first classifier load excluded); null until one finished. */
  evalSec: number | null;
}

export interface PhaseTrackerConfig {
  totalSteps: number;
  evalEverySteps: number;
  checkpointEverySteps: number;
}

/** Multiples of `every` in (step, total), plus the one at `total` (the final eval or checkpoint always happens). */
export function eventsLeft(step: number, total: number, every: number): number {
  const periodic = every > 0 ? Math.max(0, Math.ceil(total / every) - 1 - Math.floor(step / every)) : 0;
  return periodic + (step < total ? 1 : 0);
}

export class PhaseTracker {
  private phase: RunPhase = 'starting';
  private since: number;
  private step = 0;
  private evalStart: number | null = null;
  private excludedMs = 0; // the first classifier load, not part of a typical eval
  private readonly evalMs: number[] = [];
  private readonly checkpointMs: number[] = [];
  private checkpointStart: number | null = null;
  private classifierSeen = false;
  private label: string = PHASE_LABELS.starting;

  constructor(
    private readonly cfg: PhaseTrackerConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.since = now();
  }

  /** Enters a phase (a no-op when already in it). Returns whether it changed. */
  enter(phase: RunPhase, step?: number): boolean {
    if (step !== undefined) this.step = step;
    if (phase === this.phase) return false;
    const t = this.now();
    // Leaving a classifier phase that was the classifier's first use: its time is not a typical eval's.
    if (this.phase === 'eval-classifier' && this.label === FIRST_CLASSIFIER_LABEL) this.excludedMs += t - this.since;
    if (this.phase === 'checkpoint' && this.checkpointStart !== null) {
      this.checkpointMs.push(t - this.checkpointStart);
      this.checkpointStart = null;
    }
    if (phase === 'eval-nll') {
      this.evalStart = t;
      this.excludedMs = 0;
    } else if (!phase.startsWith('eval-') && this.evalStart !== null) {
      this.evalMs.push(t - this.evalStart - this.excludedMs);
      this.evalStart = null;
    }
    if (phase === 'checkpoint') this.checkpointStart = t;
    this.label = phase === 'eval-classifier' && !this.classifierSeen ? FIRST_CLASSIFIER_LABEL : PHASE_LABELS[phase];
    if (phase === 'eval-classifier') this.classifierSeen = true;
    this.phase = phase;
    this.since = t;
    return true;
  }

  info(): PhaseInfo {
    const evalSec = this.evalMs.length === 0 ? null : this.evalMs.reduce((a, b) => a + b, 0) / this.evalMs.length / 1000;
    // An eval in progress at this step is not counted: eventsLeft counts the ones after it.
    return {
      phase: this.phase,
      phaseLabel: this.label,
      phaseSince: this.since,
      evalsLeft: eventsLeft(this.step, this.cfg.totalSteps, this.cfg.evalEverySteps),
      evalSec,
    };
  }

  /**
   * Seconds left: the steps' ETA, plus the evals and checkpoints to come at their measured cost, plus what is left of
   * an eval in progress (its mean cost minus its time so far). Until an eval has been timed, the steps' ETA alone
   * (and `etaIncludesEvals` false: the bar says "+ evals").
   */
  etaSec(stepsEtaSec: number): { etaSec: number; etaIncludesEvals: boolean } {
    const { evalSec } = this.info();
    const evalsAhead = eventsLeft(this.step, this.cfg.totalSteps, this.cfg.evalEverySteps);
    const ckptsAhead = eventsLeft(this.step, this.cfg.totalSteps, this.cfg.checkpointEverySteps);
    const ckptSec = this.checkpointMs.length === 0 ? 0 : this.checkpointMs.reduce((a, b) => a + b, 0) / this.checkpointMs.length / 1000;
    let eta = (Number.isFinite(stepsEtaSec) ? stepsEtaSec : 0) + ckptsAhead * ckptSec;
    if (evalSec !== null) {
      eta += evalsAhead * evalSec;
      if (this.evalStart !== null) eta += Math.max(0, evalSec - (this.now() - this.evalStart - this.excludedMs) / 1000);
    }
    return { etaSec: eta, etaIncludesEvals: evalSec !== null || evalsAhead === 0 };
  }
}
