import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { checkResume, jobLockOf, ownsJob, readResumePoint, ResumeError, writeResumePoint, type ResumePoint } from './resume-point';

const at = (step: number): ResumePoint => ({ step, uri: `/shared/artifacts/runs/r-1/checkpoints/step-${step}`, sha256: 'ab', host: 'gpu-1', at: 1 });

describe('checkResume', () => {
  it('a run never checkpointed, or one whose newest checkpoint is readable here, starts as found', () => {
    expect(checkResume(null, null, '/c')).toBeNull();
    expect(checkResume(null, 40, '/c')).toBeNull();
    expect(checkResume(at(40), 40, '/c')).toBeNull();
    expect(checkResume(at(40), 60, '/c')).toBeNull(); // a later checkpoint whose record was lost
  });

  it('the newest checkpoint unreadable but an older one verifies: resume from the older one, with a warning', () => {
    expect(checkResume(at(60), 40, '/c')).toBe(
      'the newest checkpoint (step 60, /shared/artifacts/runs/r-1/checkpoints/step-60) is not readable here; resuming from the older step 40',
    );
  });

  it('nothing readable although the run has a resume point: fail, say why, never restart from step 0', () => {
    expect(() => checkResume(at(60), null, '/local/artifacts/runs/r-1/checkpoints')).toThrow(ResumeError);
    expect(() => checkResume(at(60), null, '/local/artifacts/runs/r-1/checkpoints')).toThrow(
      'cannot read the checkpoint this run must resume from (step 60, /shared/artifacts/runs/r-1/checkpoints/step-60, written by gpu-1): no valid checkpoint in /local/artifacts/runs/r-1/checkpoints. Is ARTIFACT_DIR the same shared folder (NFS or similar) on this machine? Refusing to restart from step 0.',
    );
  });
});

describe('writeResumePoint with the job lock (real Redis)', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `test-resume-${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('moves the resume point only while this attempt holds the lock; a copy whose lock was taken over writes nothing', async () => {
    const mine = jobLockOf(prefix, 'r-1', 'token-a');
    expect(mine).toEqual({ key: `${prefix}:runs:r-1:lock`, token: 'token-a' });
    await redis.set(`${prefix}:runs:r-1:lock`, 'token-a');
    expect(await ownsJob(redis, mine)).toBe(true);
    expect(await writeResumePoint(redis, prefix, 'r-1', at(40), mine)).toBe(true);
    expect((await readResumePoint(redis, prefix, 'r-1'))?.step).toBe(40);

    await redis.set(`${prefix}:runs:r-1:lock`, 'token-b'); // another worker took the job over
    expect(await ownsJob(redis, mine)).toBe(false);
    expect(await writeResumePoint(redis, prefix, 'r-1', at(60), mine)).toBe(false);
    expect((await readResumePoint(redis, prefix, 'r-1'))?.step).toBe(40);
    await redis.del(`${prefix}:runs:r-1:lock`); // expired
    expect(await writeResumePoint(redis, prefix, 'r-1', at(60), mine)).toBe(false);
    expect((await readResumePoint(redis, prefix, 'r-1'))?.step).toBe(40);

    // without a token (a child started by hand): unconditional
    expect(jobLockOf(prefix, 'r-1', undefined)).toBeUndefined();
    expect(await writeResumePoint(redis, prefix, 'r-1', at(80))).toBe(true);
    expect((await readResumePoint(redis, prefix, 'r-1'))?.step).toBe(80);
  });
});
