import { fork } from 'node:child_process';
import path from 'node:path';

export interface QueryRequest {
  dbPath: string;
  sql: string;
}

export type QueryReply = { type: 'rows'; columns: string[]; rows: Record<string, unknown>[] } | { type: 'error'; message: string };

/** The statement ran past its time limit and was stopped. */
export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError';
}

/** The statement failed in SQLite (the message is SQLite's). */
export class QuerySqlError extends Error {
  override name = 'QuerySqlError';
}

const QUERY_CHILD = path.join(__dirname, 'query-child.js');

/**
 * Runs one read-only statement on the database in a child process (query-child.ts) and returns its rows; after
 * `timeoutMs` (0: no limit) the child is killed and QueryTimeoutError thrown. SQLite's read-only connection holds no
 * lock that outlives its process, so killing it leaves the database as it was.
 */
export function runReadOnlyQuery(req: QueryRequest, timeoutMs: number): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    // 'advanced' serialization: BLOBs arrive as bytes and big integers as they are, not as JSON.
    const child = fork(QUERY_CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    let reply: QueryReply | null = null;
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutMs) : null;
    child.once('message', (m: QueryReply) => void (reply = m));
    child.once('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      const r = reply as QueryReply | null;
      if (timedOut) reject(new QueryTimeoutError(`the statement ran longer than ${timeoutMs / 1000} s and was stopped`));
      else if (r?.type === 'rows') resolve({ columns: r.columns, rows: r.rows });
      else if (r?.type === 'error') reject(new QuerySqlError(r.message));
      else reject(new Error(`the query process exited with ${signal ?? `code ${code}`} without an answer`));
    });
    child.send(req);
  });
}
