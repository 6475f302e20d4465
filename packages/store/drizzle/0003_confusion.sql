CREATE TABLE `confusion` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`true_class` integer NOT NULL,
	`predicted_class` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`run_id`, `step`, `true_class`, `predicted_class`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint

-- (Hand-edited after drizzle-kit generate: WITHOUT ROWID above, and the views below, which drizzle-kit does not manage.)
-- run_results and sweep_results gain the class-consistency of the digit classifier (metric eval/class_consistency).
DROP VIEW `sweep_results`;
--> statement-breakpoint
DROP VIEW `run_results`;
--> statement-breakpoint
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
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/class_consistency' ORDER BY step DESC LIMIT 1) AS final_class_consistency,
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
  avg(CASE WHEN status = 'succeeded' THEN final_class_consistency END) AS mean_class_consistency,
  avg(CASE WHEN status = 'succeeded' THEN mu_norm_init END) AS mean_mu_norm_init,
  avg(CASE WHEN status = 'succeeded' THEN mu_norm_final END) AS mean_mu_norm_final,
  avg(CASE WHEN status = 'succeeded' THEN elapsed_ms END) AS mean_elapsed_ms
FROM run_results
GROUP BY sweep_id, variant_group;
