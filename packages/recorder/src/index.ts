export { createRecorder } from './recorder';
export type { Recorder, RecorderLog, RecorderOptions, RecorderStats } from './recorder';
