/** How a classifier labelled generated samples of known class. */
export interface Consistency {
  /** Share of all samples labelled with the class they were sampled from. */
  consistency: number;
  /** Per class c: share of class-c samples labelled c (NaN for a class with no samples). */
  perClass: number[];
  /** confusion[c][k]: class-c samples labelled k. */
  confusion: number[][];
  count: number;
}

/** The confusion matrix and class-consistency of predictions against the classes the samples were drawn from. */
export function classConsistency(sampled: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): Consistency {
  if (sampled.length !== predicted.length) throw new Error(`classConsistency: ${sampled.length} classes but ${predicted.length} predictions`);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let hits = 0;
  for (let i = 0; i < sampled.length; i++) {
    const c = sampled[i] ?? -1,
      k = predicted[i] ?? -1;
    const row = confusion[c];
    if (row === undefined || k < 0 || k >= numClasses) throw new Error(`classConsistency: class ${c} or label ${k} outside 0..${numClasses - 1}`);
    row[k] = (row[k] ?? 0) + 1;
    if (c === k) hits++;
  }
  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : (row[c] ?? 0) / total;
  });
  return { consistency: sampled.length === 0 ? NaN : hits / sampled.length, perClass, confusion, count: sampled.length };
}

/** Share of samples two judges label alike (whatever the class they were drawn from). */
export function judgeAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`judgeAgreement: ${a.length} and ${b.length} labels`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length === 0 ? NaN : same / a.length;
}
