import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema';
import { StoreError } from './store-error';

export type StoreDb = BetterSQLite3Database<typeof schema>;

/** An open database: drizzle for queries, the better-sqlite3 handle for pragmas and synchronous transactions. */
export interface Store {
  readonly db: StoreDb;
  readonly sqlite: Database.Database;
  readonly path: string;
  readonly readonly: boolean;
  close(): void;
}

export interface OpenStoreOptions {
  /** Open without writing anything: no migration, `PRAGMA query_only`. The file must exist and be migrated. */
  readonly?: boolean;
  /** How long a statement waits for another connection's write lock before SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * FULL (default): a commit survives power loss, which is what "XACK only after commit" needs to lose nothing.
   * NORMAL: faster; a commit survives a process crash but maybe not power loss (WAL mode).
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Default: the package's drizzle/ folder (found from src/ and from dist/ alike). */
  migrationsFolder?: string;
}

/** packages/store/drizzle: one level up from both src/ (tests) and dist/ (built). */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, '..', 'drizzle');
const MIGRATIONS_TABLE = '__drizzle_migrations';

/**
 * Opens (creating it and its folder if needed) the SQLite database at `file` and brings its schema up to date with
 * drizzle's migrator: WAL, busy_timeout, foreign keys on. Several processes may open the same file at once; if two
 * race to migrate a fresh file, the loser finds the schema already current and carries on.
 * With `{ readonly: true }` nothing is written: for `pnpm query` and reports while the recorder writes.
 */
export function openStore(file: string, opts: OpenStoreOptions = {}): Store {
  const readonly = opts.readonly ?? false;
  const memory = file === ':memory:' || file === '';
  if (readonly && !memory && !existsSync(file)) throw new StoreError(file, 'no such database file (it is created by the scheduler or the recorder)');
  if (!readonly && !memory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let sqlite: Database.Database;
  try {
    sqlite = new Database(file, { readonly, fileMustExist: readonly });
  } catch (err: unknown) {
    throw new StoreError(file, `cannot open: ${messageOf(err) ?? String(err)}`, { cause: err });
  }
  try {
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
    sqlite.pragma('foreign_keys = ON');
    if (readonly) {
      sqlite.pragma('query_only = ON');
    } else {
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    }
    const db = drizzle({ client: sqlite, schema, casing: 'snake_case' });
    const folder = opts.migrationsFolder ?? MIGRATIONS_FOLDER;
    if (readonly) assertMigrated(sqlite, file, folder);
    else migrateStore(db, sqlite, file, folder);
    return { db, sqlite, path: file, readonly, close: () => sqlite.close() };
  } catch (err: unknown) {
    sqlite.close();
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') {
      throw new StoreError(file, `not a SQLite database (${messageOf(err) ?? String(code)}): is SWEEP_DB the sweep database?`, { cause: err });
    }
    if (code === 'SQLITE_CORRUPT') {
      throw new StoreError(file, `the database is corrupt (${messageOf(err) ?? String(code)}): restore it from a backup copy`, { cause: err });
    }
    throw err;
  }
}

function latestMigrationMillis(file: string, folder: string): number {
  const journalPath = path.join(folder, 'meta', '_journal.json');
  let journal: { entries?: { when?: unknown }[] };
  try {
    journal = JSON.parse(readFileSync(journalPath, 'utf8')) as typeof journal;
  } catch (err: unknown) {
    throw new StoreError(file, `cannot read the migrations journal ${journalPath}: ${messageOf(err) ?? String(err)}`, { cause: err });
  }
  return Math.max(0, ...(journal.entries ?? []).map((e) => (typeof e.when === 'number' ? e.when : 0)));
}

/** The `when` of the newest migration applied to this database (0 if none). */
function appliedMigrationMillis(sqlite: Database.Database): number {
  const table = sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(MIGRATIONS_TABLE);
  if (table === undefined) return 0;
  const row = sqlite.prepare(`SELECT max(CAST(created_at AS INTEGER)) AS at FROM ${MIGRATIONS_TABLE}`).get() as { at: number | null } | undefined;
  return row?.at ?? 0;
}

function migrateStore(db: StoreDb, sqlite: Database.Database, file: string, folder: string): void {
  const want = latestMigrationMillis(file, folder);
  if (appliedMigrationMillis(sqlite) >= want) return;
  try {
    migrate(db, { migrationsFolder: folder });
  } catch (err: unknown) {
    if (appliedMigrationMillis(sqlite) >= want) return; // another process migrated it meanwhile
    throw new StoreError(file, `migration failed: ${describeMigrationError(err)}`, { cause: err });
  }
}

/** drizzle wraps the SQLite error: "Failed to run the query '<sql>'" with the reason as cause. Say both, briefly. */
function describeMigrationError(err: unknown): string {
  // Duck-typed, not instanceof: better-sqlite3's SqliteError may come from another realm (jest's vm contexts).
  const causeOf = (e: unknown): unknown => (e !== null && typeof e === 'object' && 'cause' in e ? e.cause : undefined);
  let inner: unknown = err;
  while (messageOf(causeOf(inner)) !== undefined) inner = causeOf(inner);
  const reason = messageOf(inner) ?? String(inner);
  const query = (err as { query?: unknown } | null)?.query;
  const firstLine = typeof query === 'string' ? query.trim().split('\n')[0] : undefined;
  return firstLine === undefined || inner === err ? reason : `${reason} (in ${firstLine})`;
}

function messageOf(e: unknown): string | undefined {
  return e !== null && typeof e === 'object' && 'message' in e && typeof e.message === 'string' ? e.message : undefined;
}

function assertMigrated(sqlite: Database.Database, file: string, folder: string): void {
  const want = latestMigrationMillis(file, folder);
  const have = appliedMigrationMillis(sqlite);
  if (have < want) {
    throw new StoreError(
      file,
      have === 0
        ? 'has no schema yet; open it read-write once (the scheduler or the recorder does)'
        : 'has an older schema; open it read-write once to migrate it (the scheduler or the recorder does)',
    );
  }
}
