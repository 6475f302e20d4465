import { PNG } from 'pngjs';

/**
 * A grid of grayscale images as PNG bytes. `images` holds rows·cols images of h×w values in [-1, 1] (row-major, image
 * after image); values outside are clipped. `pad` pixels of mid-grey separate the cells.
 */
export function encodeImageGrid(
  images: Float32Array,
  opts: { rows: number; cols: number; height: number; width: number; pad?: number; scale?: number },
): Buffer {
  const { rows, cols, height: h, width: w } = opts;
  const pad = opts.pad ?? 1;
  const scale = opts.scale ?? 1;
  if (images.length !== rows * cols * h * w) throw new Error(`encodeImageGrid: expected ${rows * cols * h * w} values, got ${images.length}`);
  const W = (cols * (w + pad) + pad) * scale;
  const H = (rows * (h + pad) + pad) * scale;
  const png = new PNG({ width: W, height: H, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  const out = Buffer.alloc(W * H, 128);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const base = (r * cols + c) * h * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const v = images[base + y * w + x] ?? 0;
          const byte = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
          for (let sy = 0; sy < scale; sy++) {
            const Y = ((r * (h + pad) + pad + y) * scale + sy) * W;
            for (let sx = 0; sx < scale; sx++) out[Y + (c * (w + pad) + pad + x) * scale + sx] = byte;
          }
        }
      }
    }
  }
  png.data = out;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** Decodes a grayscale PNG back to bytes (tests, report). */
export function decodePng(buf: Buffer): { width: number; height: number; gray: Uint8Array } {
  const png = PNG.sync.read(buf);
  const gray = new Uint8Array(png.width * png.height);
  for (let i = 0; i < gray.length; i++) gray[i] = png.data[i * 4] ?? 0;
  return { width: png.width, height: png.height, gray };
}
