/**
 * pnpm lint: the layering between the packages, and no cycles. Workspace imports (@ablate/x) resolve to their sources
 * through tsconfig.depcruise.json, so the check needs no build. Type-only imports count too.
 */
const pkg = (name) => `^(packages|apps)/${name}/|^@ablate/${name}$`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'worker-not-store',
      comment: 'The worker writes events to Redis; only the recorder writes the database.',
      severity: 'error',
      from: { path: '^apps/worker/' },
      to: { path: pkg('store') },
    },
    {
      name: 'tarflow-is-the-model-only',
      comment: 'The model knows nothing of queues, the database or logging.',
      severity: 'error',
      from: { path: '^packages/tarflow/' },
      to: { path: [pkg('queue'), pkg('store'), pkg('log')] },
    },
    {
      name: 'train-not-queue-or-store',
      comment: 'The training loop reports through callbacks; the worker turns them into events.',
      severity: 'error',
      from: { path: '^packages/train/' },
      to: { path: [pkg('queue'), pkg('store')] },
    },
    {
      name: 'sweep-not-store',
      comment: 'Expanding a sweep is pure: YAML in, RunSpec[] out.',
      severity: 'error',
      from: { path: '^packages/sweep/' },
      to: { path: pkg('store') },
    },
    {
      name: 'store-not-redis',
      comment: "The store is SQLite only: reading the event stream is @ablate/recorder's.",
      severity: 'error',
      from: { path: '^packages/store/' },
      to: { path: [pkg('queue'), pkg('recorder'), '(^|/)node_modules/ioredis/|^ioredis$'] },
    },
    {
      name: 'report-not-queue',
      comment: 'The report reads the database only; its tests (and their fixtures) may build events with the queue types.',
      severity: 'error',
      from: { path: '^apps/report/', pathNot: ['\\.test\\.ts$', '/test-utils/'] },
      to: { path: pkg('queue') },
    },
    {
      name: 'test-utils-in-tests-only',
      comment: '@ablate/test-utils is a devDependency: tests and their helpers only.',
      severity: 'error',
      from: { pathNot: ['\\.test\\.ts$', '\\.faults\\.ts$', '/test-utils/', '^packages/test-utils/'] },
      to: { path: pkg('test-utils') },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
