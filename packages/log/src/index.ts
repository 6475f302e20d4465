export { createLogger, runLogger } from './logger';
export type { CreateLoggerOptions, Logger } from './logger';
