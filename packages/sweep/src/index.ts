export { canonicalJson, runIdOf } from './canonical-json';
export { expandSweep } from './expand-sweep';
export { loadSweepFile, sweepIdOf } from './load-sweep-file';
export { parseSweep } from './parse-sweep';
export { MAX_RUNS } from './sweep-spec';
export type { BuiltinRunSpec, ProgramRunSpec, RunSpec, SweepSpec } from './sweep-spec';
export type { ProgramSpec } from './program-spec';
export type { ProgramIdentity } from './canonical-json';
