export { ConfigError, formatIssue, formatPath } from './config-error';
export type { ConfigIssue } from './config-error';
export { parseRunConfig, parseSet, resolveRunConfig, setPath } from './parse-run-config';
export { MU_INITS, PRESET_NAMES, RunConfigSchema } from './run-config';
export type { DataSection, ModelSection, PresetName, RunConfig, RunConfigInput } from './run-config';
export { describeValue, explainZodIssue, getPath, parseWithSchema, toConfigIssues } from './zod-issues';
export type { IssuePart } from './zod-issues';
export { issueAt, parseYamlSource } from './yaml-source';
export type { YamlSource } from './yaml-source';
