-- Views for people and reports (custom migration: drizzle-kit does not generate SQLite views). Declared in
-- src/schema.ts with .existing() so drizzle can query them. To change one: add a new custom migration
-- (`pnpm exec drizzle-kit generate --custom --name <name>`) that drops and recreates it; never edit this file once released.

-- Per run and metric name, the value at the highest step.
CREATE VIEW `latest_metrics` AS
SELECT m.run_id, m.name, m.step, m.value
FROM metrics m
WHERE m.step = (SELECT max(m2.step) FROM metrics m2 WHERE m2.run_id = m.run_id AND m2.name = m.name);
--> statement-breakpoint

-- One row per (sweep, run) membership (sweep_runs): a run shared by two sweeps has a row in each, with that sweep's
-- idx, label and variant, and the run's one outcome. Train loss is the metric `loss`; eval numbers are `eval/nll`,
-- `eval/bpd`, `eval/accuracy` at the highest step that has them; ‖μ‖ is the mean over classes of mu_norms at step 0
-- and at the highest step. `WHERE sweep_id = ?` on it is flattened onto sweep_runs' (sweep_id, …) indexes.
CREATE VIEW `run_results` AS
SELECT
  r.id AS run_id,
  sr.sweep_id,
  s.name AS sweep_name,
  sr.idx,
  sr.label,
  sr.variant_group,
  sr.variant_json,
  r.status,
  r.attempts,
  r.backend,
  r.device,
  r.final_step,
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'loss' ORDER BY step DESC LIMIT 1) AS final_loss,
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/nll' ORDER BY step DESC LIMIT 1) AS final_eval_nll,
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/bpd' ORDER BY step DESC LIMIT 1) AS final_eval_bpd,
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/accuracy' ORDER BY step DESC LIMIT 1) AS final_eval_accuracy,
  (SELECT avg(norm) FROM mu_norms WHERE run_id = r.id AND step = 0) AS mu_norm_init,
  (SELECT avg(norm) FROM mu_norms WHERE run_id = r.id AND step = (SELECT max(step) FROM mu_norms WHERE run_id = r.id)) AS mu_norm_final,
  r.elapsed_ms,
  r.started_at,
  r.finished_at,
  r.error
FROM sweep_runs sr
JOIN runs r ON r.id = sr.run_id
JOIN sweeps s ON s.id = sr.sweep_id;
--> statement-breakpoint

-- One row per sweep variant: the sweep's run_results rows (so its memberships) grouped by (sweep_id, variant_group),
-- variant_group being the label without the seed. Counts of every outcome; the means (and min/max bpd) are over the
-- succeeded runs only, so a diverged seed shows up as a count, not a NaN.
CREATE VIEW `sweep_results` AS
SELECT
  sweep_id,
  sweep_name,
  variant_group,
  min(idx) AS first_idx,
  count(*) AS runs,
  sum(status = 'succeeded') AS succeeded,
  sum(status = 'failed') AS failed,
  sum(status = 'diverged') AS diverged,
  sum(status = 'cancelled') AS cancelled,
  sum(status IN ('queued', 'running')) AS unfinished,
  avg(CASE WHEN status = 'succeeded' THEN final_loss END) AS mean_final_loss,
  avg(CASE WHEN status = 'succeeded' THEN final_eval_nll END) AS mean_eval_nll,
  avg(CASE WHEN status = 'succeeded' THEN final_eval_bpd END) AS mean_eval_bpd,
  min(CASE WHEN status = 'succeeded' THEN final_eval_bpd END) AS min_eval_bpd,
  max(CASE WHEN status = 'succeeded' THEN final_eval_bpd END) AS max_eval_bpd,
  avg(CASE WHEN status = 'succeeded' THEN final_eval_accuracy END) AS mean_eval_accuracy,
  avg(CASE WHEN status = 'succeeded' THEN mu_norm_init END) AS mean_mu_norm_init,
  avg(CASE WHEN status = 'succeeded' THEN mu_norm_final END) AS mean_mu_norm_final,
  avg(CASE WHEN status = 'succeeded' THEN elapsed_ms END) AS mean_elapsed_ms
FROM run_results
GROUP BY sweep_id, variant_group;
