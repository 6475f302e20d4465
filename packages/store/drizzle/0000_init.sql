CREATE TABLE `artifacts` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`kind` text NOT NULL,
	`uri` text NOT NULL,
	PRIMARY KEY(`run_id`, `step`, `kind`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `checkpoints` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`uri` text NOT NULL,
	`bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	PRIMARY KEY(`run_id`, `step`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `metrics` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`name` text NOT NULL,
	`value` real,
	PRIMARY KEY(`run_id`, `name`, `step`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `mu_norms` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`class` integer NOT NULL,
	`norm` real,
	PRIMARY KEY(`run_id`, `step`, `class`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`config_json` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`worker_host` text,
	`worker_id` text,
	`backend` text,
	`device` text,
	`resumed_from` integer,
	`started_entry` text,
	`queued_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`final_step` integer,
	`elapsed_ms` integer,
	`error` text,
	CONSTRAINT "runs_status_check" CHECK("runs"."status" IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'diverged'))
);
--> statement-breakpoint
CREATE TABLE `sweep_runs` (
	`sweep_id` text NOT NULL,
	`run_id` text NOT NULL,
	`idx` integer NOT NULL,
	`label` text NOT NULL,
	`variant_group` text NOT NULL,
	`variant_json` text NOT NULL,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`sweep_id`, `run_id`),
	FOREIGN KEY (`sweep_id`) REFERENCES `sweeps`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sweep_runs_sweep_idx` ON `sweep_runs` (`sweep_id`,`idx`);--> statement-breakpoint
CREATE INDEX `sweep_runs_run` ON `sweep_runs` (`run_id`);--> statement-breakpoint
CREATE TABLE `sweeps` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`file` text NOT NULL,
	`spec_json` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
