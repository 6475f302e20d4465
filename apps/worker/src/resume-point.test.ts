import { describe, expect, it } from '@jest/globals';
import { checkResume, ResumeError, type ResumePoint } from './resume-point';

const at = (step: number): ResumePoint => ({ step, uri: `/shared/artifacts/runs/r-1/checkpoints/step-${step}`, sha256: 'ab', host: 'gpu-1', at: 1 });

describe('checkResume', () => {
  it('a run never checkpointed, or one whose newest checkpoint is readable here, starts as found', () => {
    expect(checkResume(null, null, '/c')).toBeNull();
    expect(checkResume(null, 40, '/c')).toBeNull();
    expect(checkResume(at(40), 40, '/c')).toBeNull();
    expect(checkResume(at(40), 60, '/c')).toBeNull(); // a later checkpoint whose record was lost
  });

  it('the newest checkpoint unreadable but an older one verifies: resume from the older one, with a warning', () => {
    expect(checkResume(at(60), 40, '/c')).toBe('the newest checkpoint (step 60, /shared/artifacts/runs/r-1/checkpoints/step-60) is not readable here; resuming from the older step 40');
  });

  it('nothing readable although the run has a resume point: fail, say why, never restart from step 0', () => {
    expect(() => checkResume(at(60), null, '/local/artifacts/runs/r-1/checkpoints')).toThrow(ResumeError);
    expect(() => checkResume(at(60), null, '/local/artifacts/runs/r-1/checkpoints')).toThrow(
      'cannot read the checkpoint this run must resume from (step 60, /shared/artifacts/runs/r-1/checkpoints/step-60, written by gpu-1): no valid checkpoint in /local/artifacts/runs/r-1/checkpoints. Is ARTIFACT_DIR the same shared folder (NFS or similar) on this machine? Refusing to restart from step 0.',
    );
  });
});
