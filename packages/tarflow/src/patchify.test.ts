import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from '@jest/globals';
import { patchify, unpatchify } from './patchify';
import { rank4 } from './tensor-util';
import { testConfig } from './test-utils/helpers';

describe('patchify', () => {
  it('orders tokens row-major over the patch grid and values as (py, px, c)', () => {
    const cfg = testConfig({ imageSize: 4, patchSize: 2, channels: 2 });
    const vals = Array.from({ length: 4 * 4 * 2 }, (_, i) => i); // pixel (y, x, c) = 8y + 2x + c
    const z = patchify(cfg, tf.tensor4d(vals, [1, 4, 4, 2])).arraySync()[0] ?? [];
    const expected = [0, 1, 2, 3].map((t) => {
      const gy = Math.floor(t / 2),
        gx = t % 2,
        row: number[] = [];
      for (let py = 0; py < 2; py++) for (let px = 0; px < 2; px++) for (let c = 0; c < 2; c++) row.push(8 * (2 * gy + py) + 2 * (2 * gx + px) + c);
      return row;
    });
    expect(z).toEqual(expected);
  });

  it('unpatchify is its exact inverse', () => {
    const cfg = testConfig();
    const x = tf.randomNormal([3, cfg.imageSize, cfg.imageSize, 1], 0, 1, 'float32', 1);
    const z = patchify(cfg, rank4(x));
    expect(z.shape).toEqual([3, 16, 4]);
    expect(Array.from(unpatchify(cfg, z).dataSync())).toEqual(Array.from(x.dataSync()));
  });
});
