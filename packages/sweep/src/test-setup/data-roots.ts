// Sweep tests use made-up data folders (/d, ../mnist) to test structure, not confinement: allow every folder here.
// expand-sweep.test.ts checks the confinement itself, with its own DATA_ROOTS.
process.env.DATA_ROOTS = '/';
