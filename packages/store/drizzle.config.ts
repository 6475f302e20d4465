import { defineConfig } from 'drizzle-kit';

// `pnpm db:generate` after changing src/schema.ts; commit drizzle/ (SQL + meta). Custom: drizzle/0001_without_rowid.sql, 0002_views.sql.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './drizzle',
  casing: 'snake_case',
});
