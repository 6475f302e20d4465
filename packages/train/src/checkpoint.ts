import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '@ablate/config';
import type { DataOrderState } from '@ablate/data';
import { AblateError } from '@ablate/cli';

export const CHECKPOINT_FORMAT = 'ablate-checkpoint/1';

/** What a checkpoint's manifest.json holds next to weights.bin. */
export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  step: number;
  config: RunConfig;
  /** The run that wrote it (TrainHooks.runId); absent from checkpoints of `pnpm train` and of older versions. */
  runId?: string;
  /** sha256 of the config's JSON (configHash()); absent from older checkpoints, which are checked on `config` itself. */
  configHash?: string;
  dataOrder: DataOrderState;
  optimizerStep: number;
  /** Wall time spent training up to this step, so a resumed run reports total time. */
  elapsedMs: number;
  weightsFile: 'weights.bin';
  weightsBytes: number;
  sha256: string;
  specs: tf.io.WeightsManifestEntry[];
  createdAt: string;
}

export interface CheckpointRecord {
  step: number;
  /** Directory holding manifest.json and weights.bin. */
  uri: string;
  bytes: number;
  sha256: string;
}

export interface LoadedCheckpoint {
  manifest: CheckpointManifest;
  record: CheckpointRecord;
  /** `model/<name>` and `adam/{m,v}/<name>`; the caller disposes them. */
  tensors: tf.NamedTensorMap;
}

export class CheckpointError extends AblateError {
  override name = 'CheckpointError';
  constructor(
    message: string,
    readonly uri: string,
    options?: { cause?: unknown },
  ) {
    super(`${uri}: ${message}`, options);
  }
}

/**
 * The checkpoint belongs to another run: another run id, or another config. Two jobs pointed at one folder must never
 * resume each other's weights, and retrying cannot help (a job's folder comes from its payload), so the job fails.
 */
export class ForeignCheckpointError extends CheckpointError {
  override name = 'ForeignCheckpointError';
  override readonly retryable = false;
}

/** Which run may resume from a checkpoint: its id (when known) and its config. */
export interface CheckpointOwner {
  runId?: string | undefined;
  config: RunConfig;
}

/**
 * sha256 of the config's JSON, as written into each manifest. JSON.stringify (the key order as parsed), not
 * canonicalJson: every manifest already written holds this hash, and a different one would make them all foreign.
 */
export function configHash(config: RunConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/**
 * Throws ForeignCheckpointError unless the manifest names this run: the same run id (when both have one) and the same
 * config hash; a manifest from before either field existed is checked on its config, as it always was.
 */
export function assertCheckpointOwner(manifest: CheckpointManifest, owner: CheckpointOwner, uri: string): void {
  if (owner.runId !== undefined && manifest.runId !== undefined && manifest.runId !== owner.runId) {
    throw new ForeignCheckpointError(
      `was written by run ${manifest.runId}, not by ${owner.runId} (two jobs point at one checkpoint folder); refusing to resume from it`,
      uri,
    );
  }
  const same =
    manifest.configHash !== undefined ? manifest.configHash === configHash(owner.config) : JSON.stringify(manifest.config) === JSON.stringify(owner.config);
  if (!same) throw new ForeignCheckpointError('was written by a different run config; refusing to resume from it', uri);
}

export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * Writes one checkpoint atomically: into a temporary folder, then renamed into place, so a crash leaves either a whole
 * checkpoint or none (replacing a folder of the same step). Deletes no other checkpoint: the caller prunes
 * (pruneCheckpoints) once the checkpoint is its run's resume point, so a copy of a run that has lost its job does not
 * delete the older checkpoints the job's new owner may resume from.
 */
export async function saveCheckpoint(
  dir: string,
  tensors: tf.NamedTensorMap,
  meta: Omit<CheckpointManifest, 'format' | 'configHash' | 'weightsFile' | 'weightsBytes' | 'sha256' | 'specs' | 'createdAt'>,
): Promise<CheckpointRecord> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    ...meta,
    configHash: configHash(meta.config),
    weightsFile: 'weights.bin',
    weightsBytes: bytes.byteLength,
    sha256: sha256(bytes),
    specs,
    createdAt: new Date().toISOString(),
  };
  mkdirSync(dir, { recursive: true });
  const final = path.join(dir, checkpointDirName(meta.step));
  const tmp = path.join(dir, `.tmp-${checkpointDirName(meta.step)}-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  writeFileSync(path.join(tmp, 'weights.bin'), bytes);
  writeFileSync(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  return { step: meta.step, uri: final, bytes: bytes.byteLength, sha256: manifest.sha256 };
}

function listCheckpointDirs(dir: string): { step: number; uri: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, m: /^step-(\d{8})$/.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ step: Number(x.m[1]), uri: path.join(dir, x.name) }))
    .sort((a, b) => b.step - a.step);
}

/** Keeps the newest `keep` checkpoints (at least one) in `dir`, and deletes other processes' unfinished temporary folders. */
export function pruneCheckpoints(dir: string, keep: number): void {
  for (const old of listCheckpointDirs(dir).slice(Math.max(1, keep))) rmSync(old.uri, { recursive: true, force: true });
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.tmp-')) {
      const pid = Number(name.split('-')[3]);
      if (pid !== process.pid) rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

/** Reads and verifies one checkpoint (format, size, sha256). Throws CheckpointError naming the folder and the fault. */
export function loadCheckpoint(uri: string): LoadedCheckpoint {
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(uri, 'manifest.json'), 'utf8')) as CheckpointManifest;
  } catch (err: unknown) {
    throw new CheckpointError(`unreadable manifest.json (${err instanceof Error ? err.message : String(err)})`, uri, { cause: err });
  }
  if (manifest.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`expected format ${CHECKPOINT_FORMAT}, got ${JSON.stringify(manifest.format)}`, uri);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.join(uri, manifest.weightsFile));
  } catch (err: unknown) {
    throw new CheckpointError(`cannot read ${manifest.weightsFile} (${err instanceof Error ? err.message : String(err)})`, uri, { cause: err });
  }
  if (bytes.byteLength !== manifest.weightsBytes)
    throw new CheckpointError(`weights.bin has ${bytes.byteLength} bytes, expected ${manifest.weightsBytes}`, uri);
  const digest = sha256(bytes);
  if (digest !== manifest.sha256) throw new CheckpointError(`sha256 mismatch: weights.bin is ${digest}, manifest says ${manifest.sha256}`, uri);
  const buffer = new Uint8Array(bytes).buffer; // a fresh ArrayBuffer holding exactly the file
  const tensors = tf.io.decodeWeights(buffer, manifest.specs);
  return { manifest, tensors, record: { step: manifest.step, uri, bytes: bytes.byteLength, sha256: digest } };
}

/**
 * The newest checkpoint in `dir` that verifies; a corrupt one is skipped (reported through `onInvalid`) and the one
 * before it is tried. Null when there is none: the run starts at step 0. With `owner`, a checkpoint of another run
 * (assertCheckpointOwner) is not skipped but thrown (ForeignCheckpointError): the folder is shared, and starting over
 * in it would overwrite the other run's checkpoints.
 */
export function findNewestValidCheckpoint(dir: string, onInvalid?: (err: CheckpointError) => void, owner?: CheckpointOwner): LoadedCheckpoint | null {
  for (const c of listCheckpointDirs(dir)) {
    let loaded: LoadedCheckpoint;
    try {
      loaded = loadCheckpoint(c.uri);
    } catch (err: unknown) {
      if (!(err instanceof CheckpointError)) throw err;
      onInvalid?.(err);
      continue;
    }
    if (owner !== undefined) {
      try {
        assertCheckpointOwner(loaded.manifest, owner, c.uri);
      } catch (err: unknown) {
        tf.dispose(Object.values(loaded.tensors));
        throw err;
      }
    }
    return loaded;
  }
  return null;
}
