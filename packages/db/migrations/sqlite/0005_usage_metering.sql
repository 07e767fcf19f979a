CREATE TABLE `job_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`expires_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `meters` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`key` text NOT NULL,
	`display_name` text NOT NULL,
	`unit` text NOT NULL,
	`aggregation` text NOT NULL,
	`price_minor` integer NOT NULL,
	`block_size` integer NOT NULL,
	`billing_mode` text NOT NULL,
	`stripe_meter_event_name` text,
	`archived_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `meters_workspace_id_key_key` ON `meters` (`workspace_id`,`key`);--> statement-breakpoint
CREATE TABLE `stripe_meter_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`usage_event_id` text NOT NULL,
	`event_name` text NOT NULL,
	`stripe_customer_id` text NOT NULL,
	`value` integer NOT NULL,
	`identifier` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`sent_at` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `stripe_meter_outbox_usageEventId_unique` ON `stripe_meter_outbox` (`usage_event_id`);--> statement-breakpoint
CREATE INDEX `stripe_meter_outbox_status_next_attempt_at_idx` ON `stripe_meter_outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `usage_daily_rollups` (
	`customer_id` text NOT NULL,
	`meter_id` text NOT NULL,
	`day` text NOT NULL,
	`workspace_id` text NOT NULL,
	`quantity` integer NOT NULL,
	`event_count` integer NOT NULL,
	`max_quantity` integer NOT NULL,
	`charged_minor` integer NOT NULL,
	PRIMARY KEY(`customer_id`, `meter_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_daily_rollups_meter_id_day_idx` ON `usage_daily_rollups` (`meter_id`,`day`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`meter_id` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`quantity` integer NOT NULL,
	`occurred_at` integer NOT NULL,
	`properties` text,
	`payload_hash` text NOT NULL,
	`charged_minor` integer DEFAULT 0 NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_events_workspace_id_idempotency_key_key` ON `usage_events` (`workspace_id`,`idempotency_key`);--> statement-breakpoint
CREATE TABLE `usage_invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`period` text NOT NULL,
	`status` text NOT NULL,
	`currency` text NOT NULL,
	`total_minor` integer NOT NULL,
	`lines` text NOT NULL,
	`source` text NOT NULL,
	`stripe_invoice_id` text,
	`stripe_hosted_invoice_url` text,
	`stripe_total_minor` integer,
	`last_error` text,
	`created_by_user_id` text,
	`issued_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_invoices_customer_id_period_key` ON `usage_invoices` (`customer_id`,`period`);--> statement-breakpoint
CREATE INDEX `usage_invoices_workspace_id_period_idx` ON `usage_invoices` (`workspace_id`,`period`);--> statement-breakpoint
CREATE TABLE `usage_periods` (
	`workspace_id` text NOT NULL,
	`period` text NOT NULL,
	`status` text NOT NULL,
	`summary` text,
	`closing_at` integer,
	`closed_at` integer,
	PRIMARY KEY(`workspace_id`, `period`),
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `customers` ADD `external_id` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `low_balance_threshold_minor` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `customers_workspace_id_external_id_key` ON `customers` (`workspace_id`,`external_id`);--> statement-breakpoint
ALTER TABLE `workspaces` ADD `allow_negative_balance` integer DEFAULT false NOT NULL;