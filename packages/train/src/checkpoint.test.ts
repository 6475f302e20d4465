import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configHash, findNewestValidCheckpoint, ForeignCheckpointError, saveCheckpoint, type CheckpointManifest, type CheckpointOwner } from './checkpoint';
import { tempDir, tinyRun } from './test-utils/tiny-run';

const cfg = tinyRun();
const other = tinyRun({ seed: 2 });

/** A folder with one checkpoint (step 3) written by run `runId` with `cfg`. */
async function folderOf(runId: string | undefined): Promise<string> {
  const dir = tempDir('ckpt-owner-');
  const w = tf.tensor1d([1, 2, 3]);
  await saveCheckpoint(dir, { 'model/w': w }, { step: 3, config: cfg, runId, dataOrder: { seed: 1, epoch: 0, cursor: 48 }, optimizerStep: 3, elapsedMs: 10 });
  w.dispose();
  return dir;
}

function find(dir: string, owner: CheckpointOwner): number | null {
  const c = findNewestValidCheckpoint(dir, undefined, owner);
  if (c) tf.dispose(Object.values(c.tensors));
  return c?.manifest.step ?? null;
}

const manifestPath = (dir: string) => path.join(dir, 'step-00000003', 'manifest.json');

describe('a checkpoint names the run that wrote it', () => {
  it('its manifest holds the run id and the config hash; only that run resumes from it', async () => {
    const dir = await folderOf('r-aaa');
    const manifest = JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as CheckpointManifest;
    expect(manifest.runId).toBe('r-aaa');
    expect(manifest.configHash).toBe(configHash(cfg));
    expect(configHash(other)).not.toBe(configHash(cfg));

    expect(find(dir, { runId: 'r-aaa', config: cfg })).toBe(3);
    expect(() => find(dir, { runId: 'r-bbb', config: cfg })).toThrow(ForeignCheckpointError);
    expect(() => find(dir, { runId: 'r-bbb', config: cfg })).toThrow(
      `${path.join(dir, 'step-00000003')}: was written by run r-aaa, not by r-bbb (two jobs point at one checkpoint folder); refusing to resume from it`,
    );
    expect(() => find(dir, { runId: 'r-aaa', config: other })).toThrow('was written by a different run config; refusing to resume from it');
    // Without an owner (a plain read), it loads as before.
    expect(findNewestValidCheckpoint(dir)?.manifest.step).toBe(3);
  });

  it('the config hash is checked, not only the stored config', async () => {
    const dir = await folderOf('r-aaa');
    const manifest = JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as CheckpointManifest;
    writeFileSync(manifestPath(dir), JSON.stringify({ ...manifest, configHash: configHash(other) }));
    expect(() => find(dir, { runId: 'r-aaa', config: cfg })).toThrow(ForeignCheckpointError);
  });

  it('a checkpoint from before run ids and config hashes still loads, checked on its config as before', async () => {
    const dir = await folderOf('r-aaa');
    const { runId: _r, configHash: _h, ...old } = JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as CheckpointManifest;
    writeFileSync(manifestPath(dir), JSON.stringify(old));
    expect(find(dir, { runId: 'r-aaa', config: cfg })).toBe(3);
    expect(find(dir, { runId: 'r-any', config: cfg })).toBe(3); // nothing to tell runs of one config apart
    expect(() => find(dir, { runId: 'r-aaa', config: other })).toThrow('was written by a different run config; refusing to resume from it');
  });

  it('a checkpoint of `pnpm train` (no run id) resumes a run of the same config', async () => {
    const dir = await folderOf(undefined);
    expect((JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as CheckpointManifest).runId).toBeUndefined();
    expect(find(dir, { runId: 'r-aaa', config: cfg })).toBe(3);
    expect(find(dir, { config: cfg })).toBe(3);
  });

  it('refusing leaks no tensors', async () => {
    const dir = await folderOf('r-aaa');
    const before = tf.memory().numTensors;
    expect(() => find(dir, { runId: 'r-bbb', config: cfg })).toThrow(ForeignCheckpointError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
