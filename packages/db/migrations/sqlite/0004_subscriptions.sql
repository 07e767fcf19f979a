CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`mode` text NOT NULL,
	`display_prefix` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_by_user_id` text,
	`last_used_at` integer,
	`revoked_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_keyHash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_workspace_id_idx` ON `api_keys` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`stripe_invoice_id` text NOT NULL,
	`stripe_subscription_id` text,
	`number` text,
	`status` text NOT NULL,
	`billing_reason` text,
	`currency` text NOT NULL,
	`total_minor` integer DEFAULT 0 NOT NULL,
	`amount_due_minor` integer DEFAULT 0 NOT NULL,
	`amount_paid_minor` integer DEFAULT 0 NOT NULL,
	`amount_remaining_minor` integer DEFAULT 0 NOT NULL,
	`hosted_invoice_url` text,
	`invoice_pdf_url` text,
	`period_start` integer,
	`period_end` integer,
	`lines_summary` text DEFAULT '[]' NOT NULL,
	`attempt_count` integer DEFAULT 0 NOT NULL,
	`next_payment_attempt_at` integer,
	`first_failed_at` integer,
	`payment_action_required` integer DEFAULT false NOT NULL,
	`finalized_at` integer,
	`paid_at` integer,
	`voided_at` integer,
	`livemode` integer DEFAULT false NOT NULL,
	`stripe_created` integer,
	`synced_at_ms` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_workspace_id_stripe_invoice_id_key` ON `invoices` (`workspace_id`,`stripe_invoice_id`);--> statement-breakpoint
CREATE INDEX `invoices_customer_id_stripe_created_idx` ON `invoices` (`customer_id`,`stripe_created`);--> statement-breakpoint
CREATE INDEX `invoices_stripe_subscription_id_idx` ON `invoices` (`stripe_subscription_id`);--> statement-breakpoint
CREATE TABLE `licenses` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`subscription_id` text NOT NULL,
	`plan_id` text,
	`sequence` integer NOT NULL,
	`key_hash` text NOT NULL,
	`key_last4` text NOT NULL,
	`key_ciphertext` text,
	`revealed_at` integer,
	`status` text NOT NULL,
	`fingerprint` text,
	`last_verified_at` integer,
	`suspended_at` integer,
	`revoked_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`subscription_id`) REFERENCES `subscriptions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `licenses_keyHash_unique` ON `licenses` (`key_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `licenses_subscription_id_sequence_key` ON `licenses` (`subscription_id`,`sequence`);--> statement-breakpoint
CREATE INDEX `licenses_customer_id_idx` ON `licenses` (`customer_id`);--> statement-breakpoint
CREATE TABLE `stripe_test_clocks` (
	`workspace_id` text NOT NULL,
	`stripe_test_clock_id` text NOT NULL,
	`frozen_time` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`workspace_id`, `stripe_test_clock_id`),
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`stripe_subscription_id` text NOT NULL,
	`stripe_customer_id` text NOT NULL,
	`plan_id` text,
	`stripe_price_id` text,
	`status` text NOT NULL,
	`seats` integer DEFAULT 1 NOT NULL,
	`currency` text,
	`current_period_start` integer,
	`current_period_end` integer,
	`trial_start` integer,
	`trial_end` integer,
	`cancel_at_period_end` integer DEFAULT false NOT NULL,
	`cancel_at` integer,
	`canceled_at` integer,
	`ended_at` integer,
	`latest_stripe_invoice_id` text,
	`past_due_since` integer,
	`stripe_test_clock_id` text,
	`livemode` integer DEFAULT false NOT NULL,
	`stripe_created` integer,
	`synced_at_ms` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscriptions_workspace_id_stripe_subscription_id_key` ON `subscriptions` (`workspace_id`,`stripe_subscription_id`);--> statement-breakpoint
CREATE INDEX `subscriptions_customer_id_idx` ON `subscriptions` (`customer_id`);