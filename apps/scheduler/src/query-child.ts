/**
 * Runs one read-only statement for `pnpm query` in a process of its own (forked by query-runner.ts), so that the
 * parent can stop a runaway statement by killing this process: better-sqlite3 runs a statement in one synchronous
 * native call and exposes neither sqlite3_interrupt nor a progress handler, and a worker thread cannot be terminated
 * while it is inside native code.
 */
import Database from 'better-sqlite3';
import type { QueryReply, QueryRequest } from './query-runner';

const reply = (m: QueryReply) => process.send?.(m, () => process.exit(0));

process.on('disconnect', () => process.exit(1)); // the parent is gone: nobody waits for the rows
process.once('message', (m: QueryRequest) => {
  try {
    // better-sqlite3 alone, not openStore: the parent opened the database that way (and checked it) already, and this
    // process starts in a third of the time without drizzle. Read-only twice over, as openStore's read-only mode.
    const db = new Database(m.dbPath, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.pragma('query_only = ON');
    const stmt = db.prepare(m.sql);
    if (!stmt.reader) throw new Error('not a read-only statement'); // the parent checked it already
    const rows = stmt.all() as Record<string, unknown>[];
    reply({ type: 'rows', columns: stmt.columns().map((c) => c.name), rows });
  } catch (err: unknown) {
    reply({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
