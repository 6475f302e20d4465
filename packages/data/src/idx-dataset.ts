import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './data-error';
import { datasetFromBytes, type Dataset } from './dataset';
import { readIdxImages, readIdxLabels, type IdxImages, type IdxLabels } from './idx-reader';

/** The standard MNIST / Fashion-MNIST file names; each may also be gzipped with a .gz suffix. */
export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export type IdxFileRole = keyof typeof IDX_FILE_NAMES;

/** MNIST and Fashion-MNIST both have 10 classes. */
export const IDX_NUM_CLASSES = 10;

export interface IdxDirFiles {
  found: Partial<Record<IdxFileRole, string>>;
  missing: string[]; // base names, e.g. "train-images-idx3-ubyte(.gz)"
}

const ROLES: IdxFileRole[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Finds the four standard files in `dir`; the plain file wins over the .gz when both exist. */
export function findIdxFiles(dir: string): IdxDirFiles {
  const found: Partial<Record<IdxFileRole, string>> = {};
  const missing: string[] = [];
  for (const role of ROLES) {
    const base = join(dir, IDX_FILE_NAMES[role]);
    const path = [base, `${base}.gz`].find(isFile);
    if (path === undefined) missing.push(`${IDX_FILE_NAMES[role]}(.gz)`);
    else found[role] = path;
  }
  return { found, missing };
}

/** Throws a DataError naming the directory and every missing file. */
export function requireIdxFiles(dir: string): Record<IdxFileRole, string> {
  if (!existsSync(dir)) throw new DataError(dir, 'IDX directory not found');
  if (isFile(dir)) throw new DataError(dir, 'expected a directory holding the IDX files, got a file');
  const { found, missing } = findIdxFiles(dir);
  const { trainImages, trainLabels, testImages, testLabels } = found;
  if (trainImages === undefined || trainLabels === undefined || testImages === undefined || testLabels === undefined) {
    throw new DataError(dir, `missing ${missing.join(', ')} in IDX directory`);
  }
  return { trainImages, trainLabels, testImages, testLabels };
}

/** Pairs an images file with its labels file, checking the counts agree. */
export function idxPairToDataset(images: IdxImages, labels: IdxLabels): Dataset {
  if (labels.count !== images.count) {
    throw new DataError(labels.file, `label count ${labels.count} differs from image count ${images.count} in ${images.file}`);
  }
  const { pixels, count, height, width } = images;
  return datasetFromBytes({ pixels, labels: labels.labels, count, height, width }, IDX_NUM_CLASSES, labels.file);
}

/** A directory of MNIST-format IDX files: train = train-* files, test = t10k-* files. */
export function loadIdxDataset(dir: string): { train: Dataset; test: Dataset } {
  const f = requireIdxFiles(dir);
  const train = idxPairToDataset(readIdxImages(f.trainImages), readIdxLabels(f.trainLabels));
  const test = idxPairToDataset(readIdxImages(f.testImages), readIdxLabels(f.testLabels));
  return { train, test };
}
