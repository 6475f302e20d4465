import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { MIGRATIONS_FOLDER, openStore, type Store } from './open-store';
import { StoreError } from './store-error';
import { insertRuns, upsertSweep } from './runs';
import { tempDir } from './test-utils/fixtures';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});
function dir() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t;
}
function open(file: string, opts?: Parameters<typeof openStore>[1]): Store {
  const s = openStore(file, opts);
  cleanups.push(() => s.sqlite.open && s.close());
  return s;
}
const names = (s: Store, type: string): string[] =>
  (s.sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name`).all(type) as { name: string }[]).map(
    (r) => r.name,
  );

describe('openStore', () => {
  it('creates the file and its folder and applies every migration', () => {
    const t = dir();
    const s = open(t.file('nested/data/ablate.db'));
    expect(existsSync(t.file('nested/data/ablate.db'))).toBe(true);
    expect(names(s, 'table')).toEqual([
      '__drizzle_migrations',
      'artifacts',
      'checkpoints',
      'confusion',
      'metrics',
      'mu_norms',
      'runs',
      'sweep_runs',
      'sweeps',
      'variant_comparisons',
      'variant_results',
    ]);
    expect(names(s, 'view')).toEqual(['latest_metrics', 'run_results', 'sweep_results']);
    expect(names(s, 'index')).toEqual(expect.arrayContaining(['sweep_runs_run', 'sweep_runs_sweep_idx']));
    const ddl = (t: string): string => (s.sqlite.prepare(`SELECT sql FROM sqlite_master WHERE name = ?`).get(t) as { sql: string }).sql;
    expect(ddl('metrics')).toMatch(/PRIMARY KEY\(`run_id`, `name`, `step`\)[\s\S]*WITHOUT ROWID/);
    expect(ddl('mu_norms')).toMatch(/WITHOUT ROWID/);
    expect(ddl('confusion')).toMatch(/PRIMARY KEY\(`run_id`, `step`, `kind`, `temperature`, `judge`, `true_class`, `predicted_class`\)[\s\S]*WITHOUT ROWID/);
    expect(ddl('runs')).not.toMatch(/sweep_id|idx|label|variant/); // those are per sweep: sweep_runs
    expect(ddl('sweep_runs')).toMatch(/PRIMARY KEY\(`sweep_id`, `run_id`\)/);
    const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(s.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual({ n: journal.entries.length });
  });

  it('is idempotent on reopen and keeps the data', () => {
    const t = dir();
    const a = open(t.file('a.db'));
    upsertSweep(a, { id: 's', name: 'n', file: 'f.yaml', spec: {} }, 1);
    a.close();
    const b = open(t.file('a.db'));
    expect(b.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get()).toEqual({ n: 6 });
    expect(b.sqlite.prepare('SELECT id, name FROM sweeps').all()).toEqual([{ id: 's', name: 'n' }]);
  });

  it('turns on WAL, foreign keys and busy_timeout', () => {
    const s = open(dir().file('a.db'), { busyTimeoutMs: 1234 });
    expect(s.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.sqlite.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(s.sqlite.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(() => insertRuns(s, 'no-such-sweep', [{ id: 'r', idx: 0, label: 'l', variant: {}, config: {} }])).toThrow(/FOREIGN KEY/);
    expect(s.sqlite.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 0 }); // rolled back with the link
  });

  it('finds its migrations from src/ and dist/ alike: <package>/drizzle', () => {
    expect(MIGRATIONS_FOLDER).toBe(path.resolve(__dirname, '..', 'drizzle'));
    expect(existsSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'))).toBe(true);
  });

  it('read-only: reads, refuses every write, and never migrates', () => {
    const t = dir();
    const w = open(t.file('a.db'));
    upsertSweep(w, { id: 's', name: 'n', file: 'f.yaml', spec: {} }, 1);
    const r = open(t.file('a.db'), { readonly: true });
    expect(r.readonly).toBe(true);
    expect(r.sqlite.pragma('query_only', { simple: true })).toBe(1);
    expect(r.sqlite.prepare('SELECT id FROM sweeps').all()).toEqual([{ id: 's' }]);
    expect(() => upsertSweep(r, { id: 's2', name: 'n', file: 'f.yaml', spec: {} })).toThrow(/readonly|read-only/i);
    expect(() => r.sqlite.exec('DELETE FROM sweeps')).toThrow(/readonly|read-only/i);
    expect(w.sqlite.prepare('SELECT count(*) AS n FROM sweeps').get()).toEqual({ n: 1 });
  });

  it('read-only: a missing or unmigrated file is a StoreError naming the path', () => {
    const t = dir();
    expect(() => openStore(t.file('missing.db'), { readonly: true })).toThrow(StoreError);
    expect(() => openStore(t.file('missing.db'), { readonly: true })).toThrow(`${t.file('missing.db')}: no such database file`);
    new Database(t.file('empty.db')).close();
    expect(() => openStore(t.file('empty.db'), { readonly: true })).toThrow(/empty\.db: has no schema yet/);
  });

  it('a file that is not a SQLite database is a StoreError naming it, read-only or not, and is left as it was', () => {
    const t = dir();
    writeFileSync(t.file('notes.db'), 'these are my notes, not a database\n');
    for (const readonly of [true, false]) {
      expect(() => openStore(t.file('notes.db'), { readonly })).toThrow(StoreError);
      expect(() => openStore(t.file('notes.db'), { readonly })).toThrow(`${t.file('notes.db')}: not a SQLite database`);
    }
    expect(readFileSync(t.file('notes.db'), 'utf8')).toBe('these are my notes, not a database\n');
  });

  it('a migration that fails is a StoreError naming the path, with the cause', () => {
    const t = dir();
    const raw = new Database(t.file('clash.db'));
    raw.exec('CREATE TABLE artifacts (x)'); // clashes with the first migration
    raw.close();
    let err: unknown;
    try {
      openStore(t.file('clash.db'));
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/clash\.db: migration failed: .*already exists/);
    expect((err as StoreError).cause).toBeDefined();
  });
});
