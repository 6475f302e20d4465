import { resumePointKey, RUN_QUEUE } from '@ablate/queue';
import type { Redis } from 'ioredis';
import { AblateError } from '@ablate/cli';

/** Where a run must resume from, as its last worker recorded it in Redis after a checkpoint. */
export interface ResumePoint {
  step: number;
  uri: string;
  sha256: string;
  host: string;
  at: number;
  /** A program's run: the reported checkpoints still on disk, oldest first (this one last), for the worker's retention. */
  kept?: string[];
}

/** The run must resume from a checkpoint this worker cannot read: fail the attempt (another machine may see it). */
export class ResumeError extends AblateError {
  override name = 'ResumeError';
}

const KEEP_SECONDS = 90 * 24 * 3600;

export async function readResumePoint(redis: Redis, prefix: string, runId: string): Promise<ResumePoint | null> {
  const raw = await redis.get(resumePointKey(prefix, runId));
  if (raw === null) return null;
  try {
    const p = JSON.parse(raw) as Partial<ResumePoint>;
    if (typeof p.step !== 'number' || typeof p.uri !== 'string') return null;
    const kept = Array.isArray(p.kept) && p.kept.every((k) => typeof k === 'string') ? { kept: p.kept } : {};
    return { step: p.step, uri: p.uri, sha256: String(p.sha256 ?? ''), host: String(p.host ?? '?'), at: Number(p.at ?? 0), ...kept };
  } catch {
    return null;
  }
}

/** The BullMQ lock of the job a child runs: its key and this attempt's token (the worker's processor gets it). */
export interface JobLock {
  key: string;
  token: string;
}

/** The lock of job `jobId` on the run queue (BullMQ's `<prefix>:<queue>:<jobId>:lock`), or undefined without a token. */
export function jobLockOf(prefix: string, jobId: string, token: string | undefined): JobLock | undefined {
  return token === undefined ? undefined : { key: `${prefix}:${RUN_QUEUE}:${jobId}:lock`, token };
}

/** The job is no longer this worker's (its lock expired or another worker holds it): stop, report nothing. */
export class LostLockError extends Error {
  override name = 'LostLockError';
}

// SET the resume point only while the job's lock still holds this attempt's token, in one step on the server.
const SET_IF_OWNER = `if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3]) return 1 end return 0`;

/**
 * Moves the run's resume point to a checkpoint. With `lock`, only while this attempt still owns the job: a worker cut off
 * from Redis longer than its lock (another worker has taken the run over since) must not move the resume point of a run
 * that is not its own any more when its link comes back. Returns false then (nothing written).
 */
export async function writeResumePoint(redis: Redis, prefix: string, runId: string, p: ResumePoint, lock?: JobLock): Promise<boolean> {
  if (lock === undefined) {
    await redis.set(resumePointKey(prefix, runId), JSON.stringify(p), 'EX', KEEP_SECONDS);
    return true;
  }
  return (await redis.eval(SET_IF_OWNER, 2, resumePointKey(prefix, runId), lock.key, JSON.stringify(p), lock.token, KEEP_SECONDS)) === 1;
}

/** Whether this attempt still holds the job's lock (true without a lock to check). */
export async function ownsJob(redis: Redis, lock: JobLock | undefined): Promise<boolean> {
  return lock === undefined || (await redis.get(lock.key)) === lock.token;
}

/** Throws LostLockError unless this attempt still holds the job's lock: a copy checks before it reports its start. */
export async function assertOwnsJobBeforeStart(redis: Redis, lock: JobLock | undefined, runId: string): Promise<void> {
  if (!(await ownsJob(redis, lock))) throw new LostLockError(`lost the job lock before starting (another worker has taken run ${runId} over)`);
}

export async function clearResumePoint(redis: Redis, prefix: string, runId: string): Promise<void> {
  await redis.del(resumePointKey(prefix, runId));
}

/**
 * Decides whether a run may start from what this worker found on disk. `found` is the step of the newest checkpoint
 * that verifies here (null: none). Returns a warning when it must fall back to an older checkpoint (the newest is
 * corrupt or missing); throws ResumeError when the run has a resume point but nothing here is readable, so it never
 * silently restarts from step 0 (typically: ARTIFACT_DIR is not the shared folder on this machine).
 */
export function checkResume(expected: ResumePoint | null, found: number | null, checkpointDir: string): string | null {
  if (expected === null || (found !== null && found >= expected.step)) return null;
  if (found === null) {
    throw new ResumeError(
      `cannot read the checkpoint this run must resume from (step ${expected.step}, ${expected.uri}, written by ${expected.host}): ` +
        `no valid checkpoint in ${checkpointDir}. Is ARTIFACT_DIR the same shared folder (NFS or similar) on this machine? ` +
        'Refusing to restart from step 0.',
    );
  }
  return `the newest checkpoint (step ${expected.step}, ${expected.uri}) is not readable here; resuming from the older step ${found}`;
}
