-- (Hand-edited after drizzle-kit generate: WITHOUT ROWID, and rows of the one-judge era copied as denoised, T = 1, judge cnn-v1.)
CREATE TABLE `__new_confusion` (
	`run_id` text NOT NULL,
	`step` integer NOT NULL,
	`kind` text DEFAULT 'denoised' NOT NULL,
	`temperature` real DEFAULT 1 NOT NULL,
	`judge` text DEFAULT 'cnn-v1' NOT NULL,
	`true_class` integer NOT NULL,
	`predicted_class` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`run_id`, `step`, `kind`, `temperature`, `judge`, `true_class`, `predicted_class`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_confusion`("run_id", "step", "kind", "temperature", "judge", "true_class", "predicted_class", "count") SELECT "run_id", "step", 'denoised', 1, 'cnn-v1', "true_class", "predicted_class", "count" FROM `confusion`;--> statement-breakpoint
DROP TABLE `confusion`;--> statement-breakpoint
ALTER TABLE `__new_confusion` RENAME TO `confusion`;
