export {
  cancelKey,
  cancelKeys,
  cancelRunKey,
  resumePointKey,
  DEFAULT_PREFIX,
  DEFAULT_REDIS_URL,
  eventStreamKey,
  queueEnv,
  RECORDER_GROUP,
  RUN_QUEUE,
} from './names';
export type { QueueEnv } from './names';
export { FORBIDDEN_KEYS, forbiddenKeyIssues, parseOrThrow, SpecError, toSpecIssues } from './spec-error';
export type { SpecIssue } from './spec-error';
export { parseRunJobData, ProgramRunJobDataSchema, RunJobDataSchema } from './run-job';
export type { BuiltinRunJobData, ProgramRunJobData, RunJobData, RunProgram } from './run-job';
export { decodeEvent, encodeEvent, EVENT_FIELD, FINAL_STATUSES, parseRunEvent, RUN_EVENT_KINDS, runFailedEvent } from './run-event';
export type {
  ArtifactEvent,
  CheckpointEvent,
  MetricsEvent,
  MetricValue,
  MuNormsEvent,
  ConfusionEvent,
  RunEvent,
  RunEventKind,
  RunFinishedEvent,
  RunReleasedEvent,
  RunStartedEvent,
  RunStatusFinal,
} from './run-event';
export { connectProbe, redactRedisUrl, redisOptionsFromUrl } from './connection';
export type { RedisConnectionOptions } from './connection';
export { createEventWriter } from './event-writer';
export type { EventWriterOptions, RunEventWriter } from './event-writer';
export { cancelSweep } from './cancel-sweep';
export type { CancelSweepResult } from './cancel-sweep';
