CREATE TABLE `stripe_event_errors` (
	`id` text PRIMARY KEY NOT NULL,
	`scope` text NOT NULL,
	`event_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`source` text NOT NULL,
	`error` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `stripe_event_errors_scope_event_id_idx` ON `stripe_event_errors` (`scope`,`event_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `stripe_events` ADD `next_attempt_at` integer;--> statement-breakpoint
ALTER TABLE `stripe_events` ADD `payload_pruned_at` integer;--> statement-breakpoint
CREATE INDEX `stripe_events_status_next_attempt_at_idx` ON `stripe_events` (`status`,`next_attempt_at`);