CREATE TABLE "stripe_event_errors" (
	"id" text PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"event_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"source" text NOT NULL,
	"error" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "payload_pruned_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "stripe_event_errors_scope_event_id_idx" ON "stripe_event_errors" USING btree ("scope","event_id","created_at");--> statement-breakpoint
CREATE INDEX "stripe_events_status_next_attempt_at_idx" ON "stripe_events" USING btree ("status","next_attempt_at");