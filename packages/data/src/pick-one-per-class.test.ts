import { describe, expect, it } from '@jest/globals';
import { DataError } from './data-error';
import { pickOneImagePerClass } from './pick-one-per-class';
import { syntheticDataset } from './test-utils/synthetic-dataset';

const ds = syntheticDataset(1000, 10); // image i has label i % 10 and pixels i / 1000

/** Which example an image came from (its pixel value identifies it). */
const exampleOf = (img: Float32Array): number => Math.round((img[0] ?? -1) * 1000);

describe('pickOneImagePerClass', () => {
  it('returns, at index c, a copy of one image of class c', () => {
    const picks = pickOneImagePerClass(ds, 0);
    expect(picks).toHaveLength(10);
    picks.forEach((img, c) => {
      expect(img).toHaveLength(4);
      const i = exampleOf(img);
      expect(ds.labels[i]).toBe(c);
      expect(Array.from(img)).toEqual(Array.from(ds.images.subarray(i * 4, i * 4 + 4)));
      expect(img.buffer).not.toBe(ds.images.buffer);
    });
  });

  it('is deterministic for a seed, and other seeds pick other images', () => {
    const a = pickOneImagePerClass(ds, 4).map(exampleOf);
    expect(pickOneImagePerClass(ds, 4).map(exampleOf)).toEqual(a);
    const others = [5, 6, 7].map((s) => pickOneImagePerClass(ds, s).map(exampleOf).join());
    expect(others.every((o) => o !== a.join())).toBe(true);
  });

  it('fails clearly when a class has no image', () => {
    const lopsided = { ...ds, numClasses: 11 };
    expect(() => pickOneImagePerClass(lopsided, 0)).toThrow(DataError);
    expect(() => pickOneImagePerClass(lopsided, 0)).toThrow('cannot pick an image of class 10: the data set has none');
  });
});
