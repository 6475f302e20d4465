import { z } from 'zod';
import { RunConfigSchema, type RunConfig } from '@ablate/config';
import { parseOrThrow } from './spec-error';

/** The payload of one BullMQ job on RUN_QUEUE. One job = one run; job id = run id. */
export type RunJobData = BuiltinRunJobData | ProgramRunJobData;

/** A sweep's own training program: the worker runs it instead of the built-in trainer (see README, "Your own program"). */
export interface RunProgram {
  /** The command line, resolved on the scheduler (argv[0] a bare name looked up on PATH, or an absolute path). */
  argv: string[];
  /** Its working directory (the sweep file's folder). */
  cwd: string;
}

/** A run of a sweep's own program: `config` is free-form, written to the file ABLATE_CONFIG names. */
export interface ProgramRunJobData extends Omit<BuiltinRunJobData, 'config' | 'program'> {
  config: Record<string, unknown>;
  program: RunProgram;
}

/** A run of the built-in TARFlow trainer. */
export interface BuiltinRunJobData {
  /** Hash of the resolved config; also the BullMQ job id, so no `:` and never a bare integer. */
  runId: string;
  sweepId: string;
  /** The resolved run config, as stored in runs.config_json. */
  config: RunConfig;
  /** Human label of the variant, e.g. `mu_init=zero seed=1`. */
  label: string;
  /** Where this run keeps checkpoints and images (shared storage); the worker resumes from the newest valid checkpoint here. */
  artifactDir: string;
  /** Where digit classifiers are cached (shared storage, keyed by dataset); absent from older schedulers' jobs. */
  classifierDir?: string | undefined;
  program?: undefined;
}

const id = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .min(1, { error: `expected ${what}` })
    .refine((s) => !s.includes(':'), { error: `expected ${what} without ":" (BullMQ job ids cannot contain it)` })
    .refine((s) => !/^\d+$/.test(s), { error: `expected ${what} that is not a bare integer (BullMQ reserves those)` });

export const RunJobDataSchema = z.object({
  runId: id('a run id'),
  sweepId: z.string({ error: 'expected a sweep id' }).min(1, { error: 'expected a sweep id' }),
  config: RunConfigSchema,
  label: z.string({ error: 'expected a label' }),
  artifactDir: z.string({ error: 'expected a directory path' }).min(1, { error: 'expected a directory path' }),
  classifierDir: z.string({ error: 'expected a directory path' }).min(1, { error: 'expected a directory path' }).optional(),
});

const ProgramSchema = z.object({
  argv: z
    .array(z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' }), { error: 'expected a command line (a list of strings)' })
    .min(1, { error: 'expected a command line (a list of strings)' }),
  cwd: z.string({ error: 'expected a directory path' }).min(1, { error: 'expected a directory path' }),
});

export const ProgramRunJobDataSchema = RunJobDataSchema.extend({
  config: z.record(z.string(), z.unknown(), { error: 'expected a config (a mapping)' }),
  program: ProgramSchema,
});

/**
 * Validates a job payload (unknown keys are dropped, so an older worker accepts a newer scheduler's jobs). Throws a
 * SpecError naming every bad field, e.g. `job abc config.train.steps: expected a positive integer, got "x"`.
 */
export function parseRunJobData(data: unknown, source = 'job'): RunJobData {
  const program = data !== null && typeof data === 'object' && 'program' in data ? data.program : undefined;
  if (program !== undefined) return parseOrThrow(ProgramRunJobDataSchema, data, source);
  return parseOrThrow(RunJobDataSchema, data, source);
}
