CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`actor_user_id` text,
	`actor_label` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text NOT NULL,
	`target_id` text,
	`before` text,
	`after` text,
	`request_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `audit_log_workspace_id_created_at_idx` ON `audit_log` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `billing_record_checkouts` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`billing_record_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`stripe_checkout_session_id` text,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`created_by_user_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`billing_record_id`) REFERENCES `billing_records`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_record_checkouts_stripeCheckoutSessionId_unique` ON `billing_record_checkouts` (`stripe_checkout_session_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `billing_record_checkouts_billing_record_id_attempt_key` ON `billing_record_checkouts` (`billing_record_id`,`attempt`);--> statement-breakpoint
CREATE TABLE `billing_records` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`description` text NOT NULL,
	`amount_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`due_date` text NOT NULL,
	`status` text NOT NULL,
	`pay_token` text NOT NULL,
	`payment_attempts` integer DEFAULT 0 NOT NULL,
	`payment_method` text,
	`payment_reference` text,
	`manual_paid_on` text,
	`paid_at` integer,
	`paid_by_user_id` text,
	`stripe_checkout_session_id` text,
	`stripe_payment_intent_id` text,
	`stripe_payment_status` text,
	`stripe_last_event_at` integer,
	`voided_at` integer,
	`void_reason` text,
	`created_by_user_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_records_payToken_unique` ON `billing_records` (`pay_token`);--> statement-breakpoint
CREATE INDEX `billing_records_workspace_id_status_due_date_idx` ON `billing_records` (`workspace_id`,`status`,`due_date`);--> statement-breakpoint
CREATE INDEX `billing_records_customer_id_created_at_idx` ON `billing_records` (`customer_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `workspace_stripe_accounts` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`secret_key_sealed` text NOT NULL,
	`key_kind` text NOT NULL,
	`mode` text NOT NULL,
	`key_last4` text NOT NULL,
	`webhook_secret_sealed` text,
	`webhook_secret_last4` text,
	`stripe_account_id` text,
	`verified_at` integer,
	`webhook_endpoint_id` text,
	`webhook_endpoint_registered_at` integer,
	`saved_by_user_id` text NOT NULL,
	`saved_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_stripe_events` (
	`scope` text NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`api_version` text,
	`livemode` integer NOT NULL,
	`stripe_created_at` integer NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`outcome` text,
	`last_error` text,
	`workspace_id` text,
	`received_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`processed_at` integer,
	PRIMARY KEY(`scope`, `id`)
);
--> statement-breakpoint
INSERT INTO `__new_stripe_events`("scope", "id", "type", "api_version", "livemode", "stripe_created_at", "payload", "status", "attempts", "outcome", "last_error", "workspace_id", "received_at", "updated_at", "processed_at") SELECT 'deployment', "id", "type", "api_version", "livemode", "stripe_created_at", "payload", "status", "attempts", "outcome", "last_error", "workspace_id", "received_at", "updated_at", "processed_at" FROM `stripe_events`;--> statement-breakpoint
DROP TABLE `stripe_events`;--> statement-breakpoint
ALTER TABLE `__new_stripe_events` RENAME TO `stripe_events`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `stripe_events_status_received_at_idx` ON `stripe_events` (`status`,`received_at`);--> statement-breakpoint
CREATE INDEX `stripe_events_received_at_idx` ON `stripe_events` (`received_at`);--> statement-breakpoint
CREATE INDEX `stripe_events_workspace_id_received_at_idx` ON `stripe_events` (`workspace_id`,`received_at`);--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `billing_record_id` text;--> statement-breakpoint
ALTER TABLE `ledger_entries` ADD `created_by_user_id` text;