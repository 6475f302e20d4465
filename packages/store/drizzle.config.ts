import { defineConfig } from 'drizzle-kit';

// `pnpm db:generate` after changing src/schema.ts; commit drizzle/ (SQL + meta). Views: drizzle/0001_views.sql (custom).
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './drizzle',
  casing: 'snake_case',
});
