CREATE TABLE `plans` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`features` text DEFAULT '[]' NOT NULL,
	`stripe_price_id` text NOT NULL,
	`stripe_yearly_price_id` text,
	`per_seat` integer DEFAULT false NOT NULL,
	`trial_days` integer DEFAULT 0 NOT NULL,
	`issues_licenses` integer DEFAULT false NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`price_cache` text,
	`price_cached_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `plans_workspace_id_code_key` ON `plans` (`workspace_id`,`code`);