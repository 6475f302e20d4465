import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { FASHION_MNIST_DEBIAN_DIR } from './data-config';
import { describeDataSource } from './describe-data-source';
import { loadDataset } from './load-dataset';

// Real IDX files from Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist); skipped when absent.
const dir = process.env.FASHION_MNIST_DIR ?? FASHION_MNIST_DEBIAN_DIR;
const present = existsSync(dir);
if (!present) console.log(`skipping Fashion-MNIST IDX tests: ${dir} not found (apt-get install dataset-fashion-mnist)`);

function classCounts(labels: Uint8Array): number[] {
  const c = new Array<number>(10).fill(0);
  for (const y of labels) c[y] = (c[y] ?? 0) + 1;
  return c;
}

(present ? describe : describe.skip)(`Fashion-MNIST IDX files in ${dir}`, () => {
  it('doctor sees 60000 + 10000 images', () => {
    expect(describeDataSource({ source: 'idx', dir })).toMatchObject({
      available: true,
      detail: expect.stringContaining('train 60000 + test 10000 images, 28×28'),
    });
  });

  it('loads 60,000 / 10,000 images of 28×28 in [0, 1] with labels 0..9 (6,000 / 1,000 per class)', () => {
    const { train, test } = loadDataset({ source: 'idx', dir });
    expect(train).toMatchObject({ count: 60000, height: 28, width: 28, channels: 1, numClasses: 10 });
    expect(test).toMatchObject({ count: 10000, height: 28, width: 28, channels: 1, numClasses: 10 });
    expect(train.images).toHaveLength(60000 * 784);
    expect(classCounts(train.labels)).toEqual(new Array(10).fill(6000));
    expect(classCounts(test.labels)).toEqual(new Array(10).fill(1000));
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of test.images) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    expect([lo, hi]).toEqual([0, 1]);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]); // the published first labels
  });
});
