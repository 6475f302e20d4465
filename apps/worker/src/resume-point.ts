import { resumePointKey } from '@ablate/queue';
import type { Redis } from 'ioredis';
import { AblateError } from '@ablate/cli';

/** Where a run must resume from, as its last worker recorded it in Redis after a checkpoint. */
export interface ResumePoint {
  step: number;
  uri: string;
  sha256: string;
  host: string;
  at: number;
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
    return typeof p.step === 'number' && typeof p.uri === 'string' ? { step: p.step, uri: p.uri, sha256: String(p.sha256 ?? ''), host: String(p.host ?? '?'), at: Number(p.at ?? 0) } : null;
  } catch {
    return null;
  }
}

export async function writeResumePoint(redis: Redis, prefix: string, runId: string, p: ResumePoint): Promise<void> {
  await redis.set(resumePointKey(prefix, runId), JSON.stringify(p), 'EX', KEEP_SECONDS);
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
