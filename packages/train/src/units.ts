/**
 * Bits per dimension of 8-bit data from the per-dimension NLL (nats) of data scaled to [-1, 1]: one 8-bit bin is 2/256
 * wide there, so −log p₂₅₆ = −log p + log 128 per dimension.
 */
export function bitsPerDim(nllNatsPerDim: number): number {
  return (nllNatsPerDim + Math.log(128)) / Math.LN2;
}
