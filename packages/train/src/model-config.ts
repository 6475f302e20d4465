import type { DataSection, ModelSection, RunConfig } from '@ablate/config';
import type { DataConfig, Dataset } from '@ablate/data';
import { PRESETS, type MuInit, type TarflowConfig } from '@ablate/tarflow';

/**
 * The model config a run trains: the preset, with the run config's overrides, at the dataset's image size. The `test`
 * preset is for unit tests of the model at 4×4; on 28×28 data it uses 7×7 patches (16 tokens) so it still runs in
 * seconds.
 */
export function toTarflowConfig(m: ModelSection, data: Pick<Dataset, 'height' | 'width' | 'channels' | 'numClasses'>): TarflowConfig {
  if (data.height !== data.width) throw new Error(`images must be square, got ${data.height}×${data.width}`);
  const base = PRESETS[m.preset];
  return {
    ...base,
    imageSize: data.height,
    channels: data.channels,
    numClasses: data.numClasses,
    patchSize: m.patch_size ?? (m.preset === 'test' ? 7 : base.patchSize),
    ...(m.width === undefined ? {} : { width: m.width }),
    ...(m.num_blocks === undefined ? {} : { numBlocks: m.num_blocks }),
    ...(m.layers_per_block === undefined ? {} : { layersPerBlock: m.layers_per_block }),
    ...(m.head_dim === undefined ? {} : { headDim: m.head_dim }),
    ...(m.mlp_ratio === undefined ? {} : { mlpRatio: m.mlp_ratio }),
    ...(m.nvp === undefined ? {} : { nvp: m.nvp }),
    ...(m.log_scale_clip === undefined ? {} : { logScaleClip: m.log_scale_clip }),
  };
}

export function toDataConfig(d: DataSection): DataConfig {
  return d.source === 'idx' ? { source: 'idx', dir: d.dir } : { source: 'mnist-embedded', testFraction: d.test_fraction, splitSeed: d.split_seed };
}

/** μ init from the run config. `data` uses one training image per class, scaled to [-1, 1] like the model's input. */
export function toMuInit(cfg: RunConfig, pickImages: () => Float32Array[]): MuInit {
  switch (cfg.prior.mu_init) {
    case 'zero':
      return { kind: 'zero' };
    case 'randn':
      return { kind: 'randn', std: cfg.prior.mu_std };
    case 'data':
      return { kind: 'data', images: pickImages().map((img) => img.map((v) => v * 2 - 1)) };
  }
}
