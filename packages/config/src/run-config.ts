import { z } from 'zod';
import { dataDirProblem } from './data-roots';

/**
 * The run config: everything one training run needs, as plain JSON. `pnpm train --config` reads one; a sweep's `base`
 * is one, and each sweep parameter is a dotted path into it. The resolved object (defaults filled in) is stored verbatim
 * in runs.config_json and hashed into the run id. Keys are snake_case, as researchers write them (`prior.lr_scale`).
 */
const posInt = (what = 'a positive integer') =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .positive({ error: `expected ${what}` });
const nonNegInt = () => z.number({ error: 'expected an integer ≥ 0' }).int({ error: 'expected an integer ≥ 0' }).min(0, { error: 'expected an integer ≥ 0' });
const posNum = () => z.number({ error: 'expected a number > 0' }).positive({ error: 'expected a number > 0' });
const nonNegNum = () => z.number({ error: 'expected a number ≥ 0' }).min(0, { error: 'expected a number ≥ 0' });
const unit = () =>
  z.number({ error: 'expected a number in [0, 1)' }).min(0, { error: 'expected a number in [0, 1)' }).lt(1, { error: 'expected a number in [0, 1)' });
const bool = () => z.boolean({ error: 'expected true or false' });

export const PRESET_NAMES = ['paper', 'small', 'tiny', 'test'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
export const MU_INITS = ['zero', 'randn', 'data'] as const;

export const ModelSchema = z.strictObject({
  preset: z.enum(PRESET_NAMES, { error: `expected one of ${PRESET_NAMES.join(', ')}` }).default('tiny'),
  // Overrides of the preset; absent means "the preset's value".
  patch_size: posInt().optional(),
  width: posInt().optional(),
  num_blocks: posInt().optional(),
  layers_per_block: posInt().optional(),
  head_dim: posInt().optional(),
  mlp_ratio: posInt().optional(),
  nvp: bool().optional(),
  log_scale_clip: posNum().optional(),
});

export const PriorSchema = z.strictObject({
  mu_init: z.enum(MU_INITS, { error: `expected one of ${MU_INITS.join(', ')}` }).default('randn'),
  /** Scale of the randn init (the seed's ablation uses 0.02 and 1.0). Ignored by zero and data. */
  mu_std: nonNegNum().default(1),
  /** Multiplies the learning rate of μ and log σ. Under Adam each μ element moves about lr per step. */
  lr_scale: nonNegNum().default(1),
});

export const DataSchema = z.discriminatedUnion(
  'source',
  [
    z.strictObject({
      source: z.literal('mnist-embedded'),
      test_fraction: z
        .number({ error: 'expected a number in (0, 1)' })
        .gt(0, { error: 'expected a number in (0, 1)' })
        .lt(1, { error: 'expected a number in (0, 1)' })
        .default(1 / 6),
      split_seed: nonNegInt().default(0),
    }),
    z.strictObject({
      source: z.literal('idx'),
      /** Inside the allowed data folders (DATA_ROOTS), checked wherever a config is parsed: sweep, `pnpm train`, worker. */
      dir: z
        .string({ error: 'expected a directory path' })
        .min(1, { error: 'expected a directory path' })
        .superRefine((dir, ctx) => {
          const problem = dataDirProblem(dir);
          if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
        }),
    }),
  ],
  { error: 'expected source: mnist-embedded or source: idx (with dir)' },
);

export const TrainSchema = z.strictObject({
  steps: posInt().default(3000),
  batch_size: posInt().default(64),
  lr: posNum().default(3e-3),
  warmup_steps: nonNegInt().default(50),
  /** Cosine decay ends at lr · min_lr_ratio. */
  min_lr_ratio: unit().default(0),
  weight_decay: nonNegNum().default(1e-4),
  beta1: unit().default(0.9),
  beta2: unit().default(0.95),
  eps: posNum().default(1e-8),
  /** Clip the global gradient norm to this; 0 turns clipping off. */
  grad_clip: nonNegNum().default(0),
  /** Std of the Gaussian noise added to data scaled to [-1, 1]. */
  noise_std: nonNegNum().default(0.1),
  metrics_every_steps: posInt().default(10),
});

export const EvalSchema = z.strictObject({
  every_steps: nonNegInt().default(500),
  /** Held-out examples used for NLL and classification accuracy (0 = the whole test split). */
  examples: nonNegInt().default(1000),
  batch_size: posInt().default(250),
  /** Samples per class in the image grid. */
  samples_per_class: nonNegInt().default(10),
  /** Samples per class labelled by the judges (digit classifiers) at each eval, per temperature (0 = off). */
  consistency_samples_per_class: nonNegInt().default(50),
  /** At the final eval: at least this many per class (the figures the sweep's statistics are made of). */
  final_consistency_samples_per_class: nonNegInt().default(100),
  /** Temperatures of the raw samples the judges label (class-consistency of raw samples per T). */
  consistency_temperatures: z
    .array(posNum(), { error: 'expected a list of numbers > 0' })
    .min(1, { error: 'expected at least one temperature' })
    .default([1, 0.7]),
  /** Temperature of the sample grid and of the denoised samples. */
  temperature: posNum().default(1),
});

export const CheckpointSchema = z.strictObject({
  every_steps: nonNegInt().default(500),
  keep: posInt().default(3),
});

export const RunConfigSchema = z.strictObject({
  name: z.string({ error: 'expected a string' }).optional(),
  seed: nonNegInt().default(0),
  model: ModelSchema.default(() => ModelSchema.parse({})),
  prior: PriorSchema.default(() => PriorSchema.parse({})),
  data: DataSchema.default(() => DataSchema.parse({ source: 'mnist-embedded' })),
  train: TrainSchema.default(() => TrainSchema.parse({})),
  eval: EvalSchema.default(() => EvalSchema.parse({})),
  checkpoint: CheckpointSchema.default(() => CheckpointSchema.parse({})),
});

export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type ModelSection = RunConfig['model'];
export type DataSection = RunConfig['data'];
