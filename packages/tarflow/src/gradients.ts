import * as tf from '@tensorflow/tfjs-core';

/**
 * @tensorflow/tfjs-core's CommonJS bundle registers NO kernel gradients (the union package @tensorflow/tfjs does, and
 * tfjs-core's own `register_all_gradients` is ESM-only). Without them tf.grad / tf.variableGrads fail with
 * "gradient function not found for Sum". This registers the standard gradients of exactly the kernels the model's
 * differentiable path uses outside its own customGrad ops (see matmul.ts, layer-norm.ts, mlp.ts, attention.ts),
 * plus BatchMatMul for comparison in tests. A kernel that already has a gradient (e.g. because @tensorflow/tfjs was
 * loaded) is left alone, so calling this more than once is harmless. Called by initModel.
 */
export function registerTarflowGradients(): void {
  for (const config of GRADIENTS) {
    if (tf.getGradient(config.kernelName) == null) tf.registerGradient(config);
  }
}

/** Sums `dy` over the axes that broadcasting expanded, back to `shape`. */
function reduceTo(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, dy.shape);
  const summed = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(summed, shape);
}

function one(dy: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(dy)) throw new Error('expected one upstream gradient');
  return dy;
}

function at(saved: tf.Tensor[], i: number): tf.Tensor {
  const t = saved[i];
  if (t === undefined) throw new Error(`saved tensor ${i} missing`);
  return t;
}

function numsAttr(attrs: tf.NamedAttrMap, name: string): number[] {
  const v = attrs[name];
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((e): e is number => typeof e === 'number')) return v;
  throw new Error(`attribute ${name}: expected number(s)`);
}

/** A reduction's `axis` attribute (null: every axis), normalised to non-negative axes. */
function axesAttr(attrs: tf.NamedAttrMap, shape: number[]): number[] {
  if (attrs['axis'] == null) return shape.map((_, i) => i);
  return tf.util.parseAxisParam(numsAttr(attrs, 'axis'), shape);
}

function numAttr(attrs: tf.NamedAttrMap, name: string): number {
  const v = attrs[name];
  if (typeof v !== 'number') throw new Error(`attribute ${name}: expected a number`);
  return v;
}

function boolAttr(attrs: tf.NamedAttrMap, name: string): boolean {
  return attrs[name] === true;
}

/**
 * Gradient of a reduction over `axes`: dy broadcast back to x's shape. When the reduced axes are all trailing (or all
 * leading) this is an outer product with ones, done as a matmul (wasm's Tile is ~30× slower).
 */
function unreduce(dy: tf.Tensor, xShape: number[], axes: number[]): tf.Tensor {
  const r = xShape.length,
    n = axes.length;
  const size = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.every((a, i) => a === r - n + i)) {
    // trailing: (R, 1) @ (1, S)
    const R = size(xShape.slice(0, r - n)),
      S = size(xShape.slice(r - n));
    return tf.reshape(tf.matMul(tf.reshape(dy, [R, 1]), tf.ones([1, S])), xShape);
  }
  if (sorted.every((a, i) => a === i)) {
    // leading: (S, 1) @ (1, R)
    const S = size(xShape.slice(0, n)),
      R = size(xShape.slice(n));
    return tf.reshape(tf.matMul(tf.ones([S, 1]), tf.reshape(dy, [1, R])), xShape);
  }
  return tf.broadcastTo(
    tf.reshape(
      dy,
      xShape.map((d, i) => (axes.includes(i) ? 1 : d)),
    ),
    xShape,
  );
}

const GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => reduceTo(one(dy), shapeOf(a)), b: () => reduceTo(one(dy), shapeOf(b)) }),
  },
  {
    kernelName: tf.Sub,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => reduceTo(one(dy), shapeOf(a)), b: () => tf.neg(reduceTo(one(dy), shapeOf(b))) }),
  },
  {
    kernelName: tf.Multiply,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const a = at(saved, 0),
        b = at(saved, 1);
      return { a: () => reduceTo(tf.mul(one(dy), b), a.shape), b: () => reduceTo(tf.mul(one(dy), a), b.shape) };
    },
  },
  {
    kernelName: tf.RealDiv,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const a = at(saved, 0),
        b = at(saved, 1);
      return {
        a: () => reduceTo(tf.div(one(dy), b), a.shape),
        b: () => reduceTo(tf.neg(tf.div(tf.mul(one(dy), a), tf.square(b))), b.shape),
      };
    },
  },
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(one(dy)) }) },
  { kernelName: tf.Identity, gradFunc: (dy) => ({ x: () => tf.clone(one(dy)) }) },
  { kernelName: tf.Cast, gradFunc: (dy) => ({ x: () => tf.clone(one(dy)) }) },
  { kernelName: tf.Exp, outputsToSave: [true], gradFunc: (dy, saved) => ({ x: () => tf.mul(one(dy), at(saved, 0)) }) },
  {
    kernelName: tf.Square,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.mul(one(dy), tf.mul(at(saved, 0), 2)) }),
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = at(saved, 0);
      return { x: () => unreduce(one(dy), x.shape, axesAttr(attrs, x.shape)) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = at(saved, 0);
      const axes = axesAttr(attrs, x.shape);
      const n = axes.reduce((p, a) => p * (x.shape[a] ?? 1), 1);
      return { x: () => tf.div(unreduce(one(dy), x.shape, axes), n) };
    },
  },
  {
    kernelName: tf.Reshape,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(one(dy), at(saved, 0).shape) }),
  },
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => {
      const perm = numsAttr(attrs, 'perm');
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return { x: () => tf.transpose(one(dy), inverse) };
    },
  },
  {
    kernelName: tf.Reverse,
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.reverse(one(dy), numsAttr(attrs, 'dims')) }),
  },
  {
    kernelName: tf.Slice,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = at(saved, 0);
      const [begin, size] = tf.slice_util.parseSliceParams(x, numsAttr(attrs, 'begin'), numsAttr(attrs, 'size'));
      if (begin === undefined || size === undefined) throw new Error('Slice: bad params');
      const pads = x.shape.map((d, i): [number, number] => [begin[i] ?? 0, d - (begin[i] ?? 0) - (size[i] ?? d)]);
      return { x: () => tf.pad(one(dy), pads) };
    },
  },
  {
    kernelName: tf.PadV2,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = at(saved, 0);
      const pads = attrs['paddings'];
      if (!Array.isArray(pads)) throw new Error('PadV2: paddings missing');
      const begin = pads.map((p) => (Array.isArray(p) && typeof p[0] === 'number' ? p[0] : 0));
      return { x: () => tf.slice(one(dy), begin, x.shape) };
    },
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const first = at(saved, 0);
      const axis = tf.util.parseAxisParam(numAttr(attrs, 'axis'), first.shape)[0] ?? 0;
      const parts = tf.split(
        one(dy),
        saved.map((t) => t.shape[axis] ?? 0),
        axis,
      );
      const out: Record<string, () => tf.Tensor> = {};
      parts.forEach((p, i) => {
        out[String(i)] = () => p;
      });
      return out;
    },
  },
  {
    kernelName: tf.SplitV,
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.concat(Array.isArray(dy) ? dy : [dy], numAttr(attrs, 'axis')) }),
  },
  {
    kernelName: tf.ClipByValue,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = at(saved, 0);
      const inside = tf.logicalAnd(tf.greaterEqual(x, numAttr(attrs, 'clipValueMin')), tf.lessEqual(x, numAttr(attrs, 'clipValueMax')));
      return { x: () => tf.where(inside, one(dy), tf.zerosLike(one(dy))) };
    },
  },
  {
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const y = at(saved, 0);
      const dim = numsAttr(attrs, 'dim');
      return { logits: () => tf.mul(y, tf.sub(one(dy), tf.sum(tf.mul(one(dy), y), dim, true))) };
    },
  },
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const a = at(saved, 0),
        b = at(saved, 1),
        g = one(dy);
      const ta = boolAttr(attrs, 'transposeA'),
        tb = boolAttr(attrs, 'transposeB');
      const [da, db] =
        !ta && !tb
          ? [() => tf.matMul(g, b, false, true), () => tf.matMul(a, g, true, false)]
          : !ta && tb
            ? [() => tf.matMul(g, b, false, false), () => tf.matMul(g, a, true, false)]
            : ta && !tb
              ? [() => tf.matMul(b, g, false, true), () => tf.matMul(a, g, false, false)]
              : [() => tf.matMul(b, g, true, true), () => tf.matMul(g, a, true, true)];
      return { a: () => reduceTo(da(), a.shape), b: () => reduceTo(db(), b.shape) }; // sums broadcast batch dims
    },
  },
];

function shapeOf(t: tf.Tensor | undefined): number[] {
  if (t === undefined) throw new Error('saved tensor missing');
  return t.shape;
}
