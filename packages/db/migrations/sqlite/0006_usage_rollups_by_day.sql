PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_usage_daily_rollups` (
	`customer_id` text NOT NULL,
	`meter_id` text NOT NULL,
	`day` text NOT NULL,
	`workspace_id` text NOT NULL,
	`quantity` integer NOT NULL,
	`event_count` integer NOT NULL,
	`max_quantity` integer NOT NULL,
	`charged_minor` integer NOT NULL,
	PRIMARY KEY(`day`, `meter_id`, `customer_id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_usage_daily_rollups`("customer_id", "meter_id", "day", "workspace_id", "quantity", "event_count", "max_quantity", "charged_minor") SELECT "customer_id", "meter_id", "day", "workspace_id", "quantity", "event_count", "max_quantity", "charged_minor" FROM `usage_daily_rollups`;--> statement-breakpoint
DROP TABLE `usage_daily_rollups`;--> statement-breakpoint
ALTER TABLE `__new_usage_daily_rollups` RENAME TO `usage_daily_rollups`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `usage_daily_rollups_customer_id_meter_id_day_idx` ON `usage_daily_rollups` (`customer_id`,`meter_id`,`day`);