-- metrics and mu_norms as WITHOUT ROWID tables (custom migration: drizzle-kit cannot declare WITHOUT ROWID).
-- They are the bulk of the database and of the recorder's writes; clustered on their key, an insert touches one
-- b-tree instead of a rowid table plus its key index. Same columns, keys and foreign keys as in 0000_init.
-- A later generated migration that rebuilds either table must keep `WITHOUT ROWID` (add it by hand there).
CREATE TABLE `__new_metrics` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`name` text NOT NULL,
	`value` real,
	PRIMARY KEY(`run_id`, `name`, `step`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_metrics` (`run_id`, `step`, `name`, `value`) SELECT `run_id`, `step`, `name`, `value` FROM `metrics`;
--> statement-breakpoint
DROP TABLE `metrics`;
--> statement-breakpoint
ALTER TABLE `__new_metrics` RENAME TO `metrics`;
--> statement-breakpoint
CREATE TABLE `__new_mu_norms` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`class` integer NOT NULL,
	`norm` real,
	PRIMARY KEY(`run_id`, `step`, `class`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_mu_norms` (`run_id`, `step`, `class`, `norm`) SELECT `run_id`, `step`, `class`, `norm` FROM `mu_norms`;
--> statement-breakpoint
DROP TABLE `mu_norms`;
--> statement-breakpoint
ALTER TABLE `__new_mu_norms` RENAME TO `mu_norms`;
