export interface InitOptions {
  handleSigterm?: boolean;
}
export declare class Run {
  constructor(env?: NodeJS.ProcessEnv, opts?: InitOptions);
  readonly runId: string;
  readonly runDir: string;
  readonly config: Record<string, unknown>;
  /** The newest checkpoint reported, when the run resumes. */
  readonly resume: string | null;
  /** Set by SIGTERM: checkpoint and exit. */
  shouldStop: boolean;
  log(step: number, metrics: Record<string, number>, totalSteps?: number): void;
  muNorms(step: number, norms: number[]): void;
  checkpointPath(step: number, suffix?: string): string;
  checkpoint(step: number, file: string, keep?: number): void;
  artifact(step: number, kind: string, file: string): void;
  /** Generated digits (N, H, W, C) in [-1, 1], class-major, for the worker's two digit judges. */
  samples(step: number, images: Float32Array | number[], shape: [number, number, number, number], kind?: 'raw' | 'denoised', temperature?: number): void;
}
export declare function init(env?: NodeJS.ProcessEnv, opts?: InitOptions): Run;
