import { sweepDbPath } from '@ablate/cli';
import { queueEnv } from '@ablate/queue';
import path from 'node:path';

export interface SchedulerEnv {
  redisUrl: string;
  prefix: string;
  /** The one SQLite file (SWEEP_DB, default ./data/ablate.db). */
  dbPath: string;
  /** Checkpoints and images of sweep runs (ARTIFACT_DIR, default ./artifacts); every worker machine must see it. */
  artifactDir: string;
}

export function schedulerEnv(env: NodeJS.ProcessEnv = process.env): SchedulerEnv {
  const q = queueEnv(env);
  return {
    ...q,
    dbPath: sweepDbPath(env),
    artifactDir: path.resolve(env.ARTIFACT_DIR || 'artifacts'),
  };
}

/** Where one run keeps its checkpoints and images. */
export function runArtifactDir(artifactDir: string, runId: string): string {
  return path.join(artifactDir, 'runs', runId);
}
