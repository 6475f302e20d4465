import type { Dataset } from '../dataset';

/** A tiny labelled set whose image i has every pixel equal to i / count, so a pixel identifies its example. */
export function syntheticDataset(count: number, numClasses: number, height = 2, width = 2): Dataset {
  const images = new Float32Array(count * height * width);
  for (let i = 0; i < count; i++) images.fill(i / count, i * height * width, (i + 1) * height * width);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % numClasses);
  return { images, labels, count, height, width, channels: 1, numClasses };
}
