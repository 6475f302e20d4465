import type { RunConfig } from '@ablate/config';
import type { ProgramSpec } from './program-spec';

/** A parsed and validated sweep file: a base run config and the parameters to vary. */
export interface SweepSpec {
  /** `[a-z0-9][a-z0-9._-]*`, at most 64 characters: used in ids and folder names. */
  name: string;
  description?: string;
  /** The file it came from, as given (for error messages). */
  file: string;
  /** The training program to run instead of the built-in trainer (`program:`), resolved; absent for the built-in one. */
  program?: ProgramSpec;
  /** The base run config as written (unresolved); each run deep-merges its parameter values into a copy. With a program, any mapping. */
  base: unknown;
  /** In file order; a fixed `value: x` is a single-value list. `path` is dotted into the run config (`prior.mu_init`). */
  parameters: { path: string; values: unknown[] }[];
  /** The seeds swept (`seeds: 2` → [0, 1]), or null when the file has no `seeds`. */
  seeds: number[] | null;
  /** `baseline:`: parameter values of the variant others are compared against (absent: every parameter's first value). */
  baseline?: Record<string, unknown>;
}

/** One run of a sweep: its resolved config and where it sits in the expansion. */
export type RunSpec = BuiltinRunSpec | ProgramRunSpec;

/** A run of the built-in TARFlow trainer. */
export interface BuiltinRunSpec extends RunSpecCommon {
  /** Resolved: every default filled in. */
  config: RunConfig;
  program?: undefined;
}

/** A run of a sweep's own program. */
export interface ProgramRunSpec extends RunSpecCommon {
  /** The base merged with this run's values, as written (nothing is filled in): the program's ABLATE_CONFIG. */
  config: Record<string, unknown>;
  program: ProgramSpec;
}

interface RunSpecCommon {
  /**
   * `r-` + 16 hex chars of sha256(canonical JSON of `config`), or with a program of `{ program, config }`. Also the
   * BullMQ job id: no ':' and never a bare integer.
   */
  runId: string;
  sweepName: string;
  /** Position in the expansion: seeds outermost, then the product of the parameters in file order (the first varies slowest). */
  index: number;
  /** The parameter values of this run keyed by path, plus `seed` when seeds are swept. */
  variant: Record<string, unknown>;
  /** Short, unique within the sweep: the values that vary, e.g. `mu_init=randn mu_std=0.02 lr_scale=0.1 seed=0`. */
  label: string;
}

/** The most runs one sweep may expand to. */
export const MAX_RUNS = 10_000;
