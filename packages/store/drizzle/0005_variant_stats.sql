-- (Hand-edited after drizzle-kit generate: the views below, which drizzle-kit does not manage.)
CREATE TABLE `variant_comparisons` (
	`sweep_id` text NOT NULL,
	`variant_group` text NOT NULL,
	`baseline_group` text NOT NULL,
	`metric` text NOT NULL,
	`first_idx` integer NOT NULL,
	`n_pairs` integer NOT NULL,
	`mean_diff` real,
	`sd_diff` real,
	`ci_low` real,
	`ci_high` real,
	`p_value` real,
	`method` text NOT NULL,
	`min_detectable_diff` real,
	`verdict` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`sweep_id`, `variant_group`, `metric`),
	FOREIGN KEY (`sweep_id`) REFERENCES `sweeps`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `variant_results` (
	`sweep_id` text NOT NULL,
	`variant_group` text NOT NULL,
	`metric` text NOT NULL,
	`first_idx` integer NOT NULL,
	`n` integer NOT NULL,
	`mean` real,
	`sd` real,
	`ci_low` real,
	`ci_high` real,
	`seeds_json` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`sweep_id`, `variant_group`, `metric`),
	FOREIGN KEY (`sweep_id`) REFERENCES `sweeps`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- run_results gains the seed, the judges' consistency of raw samples at T = 1 and 0.7 and of denoised samples, and their agreement; sweep_results the means.
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
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/consistency/raw/t1.0' ORDER BY step DESC LIMIT 1) AS final_consistency_t1,
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/consistency/raw/t0.7' ORDER BY step DESC LIMIT 1) AS final_consistency_t07,
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/consistency/denoised/t1.0' ORDER BY step DESC LIMIT 1) AS final_consistency_denoised,
  (SELECT value FROM metrics WHERE run_id = r.id AND name = 'eval/judge_agreement/raw/t1.0' ORDER BY step DESC LIMIT 1) AS final_judge_agreement_t1,
  CAST(json_extract(r.config_json, '$.seed') AS INTEGER) AS seed,
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
  avg(CASE WHEN status = 'succeeded' THEN final_consistency_t1 END) AS mean_consistency_t1,
  avg(CASE WHEN status = 'succeeded' THEN final_consistency_t07 END) AS mean_consistency_t07,
  avg(CASE WHEN status = 'succeeded' THEN mu_norm_init END) AS mean_mu_norm_init,
  avg(CASE WHEN status = 'succeeded' THEN mu_norm_final END) AS mean_mu_norm_final,
  avg(CASE WHEN status = 'succeeded' THEN elapsed_ms END) AS mean_elapsed_ms
FROM run_results
GROUP BY sweep_id, variant_group;
