CREATE TABLE "job_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meters" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"key" text NOT NULL,
	"display_name" text NOT NULL,
	"unit" text NOT NULL,
	"aggregation" text NOT NULL,
	"price_minor" bigint NOT NULL,
	"block_size" bigint NOT NULL,
	"billing_mode" text NOT NULL,
	"stripe_meter_event_name" text,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stripe_meter_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"usage_event_id" text NOT NULL,
	"event_name" text NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"value" bigint NOT NULL,
	"identifier" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "stripe_meter_outbox_usageEventId_unique" UNIQUE("usage_event_id")
);
--> statement-breakpoint
CREATE TABLE "usage_daily_rollups" (
	"customer_id" text NOT NULL,
	"meter_id" text NOT NULL,
	"day" text NOT NULL,
	"workspace_id" text NOT NULL,
	"quantity" bigint NOT NULL,
	"event_count" bigint NOT NULL,
	"max_quantity" bigint NOT NULL,
	"charged_minor" bigint NOT NULL,
	CONSTRAINT "usage_daily_rollups_customer_id_meter_id_day_pk" PRIMARY KEY("customer_id","meter_id","day")
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"meter_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"quantity" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"properties" text,
	"payload_hash" text NOT NULL,
	"charged_minor" bigint DEFAULT 0 NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_invoices" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"period" text NOT NULL,
	"status" text NOT NULL,
	"currency" text NOT NULL,
	"total_minor" bigint NOT NULL,
	"lines" text NOT NULL,
	"source" text NOT NULL,
	"stripe_invoice_id" text,
	"stripe_hosted_invoice_url" text,
	"stripe_total_minor" bigint,
	"last_error" text,
	"created_by_user_id" text,
	"issued_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_periods" (
	"workspace_id" text NOT NULL,
	"period" text NOT NULL,
	"status" text NOT NULL,
	"summary" text,
	"closing_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	CONSTRAINT "usage_periods_workspace_id_period_pk" PRIMARY KEY("workspace_id","period")
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "external_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "low_balance_threshold_minor" bigint;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "allow_negative_balance" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "meters" ADD CONSTRAINT "meters_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_invoices" ADD CONSTRAINT "usage_invoices_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_invoices" ADD CONSTRAINT "usage_invoices_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_periods" ADD CONSTRAINT "usage_periods_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "meters_workspace_id_key_key" ON "meters" USING btree ("workspace_id","key");--> statement-breakpoint
CREATE INDEX "stripe_meter_outbox_status_next_attempt_at_idx" ON "stripe_meter_outbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "usage_daily_rollups_meter_id_day_idx" ON "usage_daily_rollups" USING btree ("meter_id","day");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_events_workspace_id_idempotency_key_key" ON "usage_events" USING btree ("workspace_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_invoices_customer_id_period_key" ON "usage_invoices" USING btree ("customer_id","period");--> statement-breakpoint
CREATE INDEX "usage_invoices_workspace_id_period_idx" ON "usage_invoices" USING btree ("workspace_id","period");--> statement-breakpoint
CREATE UNIQUE INDEX "customers_workspace_id_external_id_key" ON "customers" USING btree ("workspace_id","external_id");