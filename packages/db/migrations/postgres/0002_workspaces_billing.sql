CREATE TABLE "audit_log" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"actor_user_id" text,
	"actor_label" text NOT NULL,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text,
	"before" text,
	"after" text,
	"request_id" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_record_checkouts" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"billing_record_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"stripe_checkout_session_id" text,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"created_by_user_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "billing_record_checkouts_stripeCheckoutSessionId_unique" UNIQUE("stripe_checkout_session_id")
);
--> statement-breakpoint
CREATE TABLE "billing_records" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"customer_id" text NOT NULL,
	"description" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"due_date" text NOT NULL,
	"status" text NOT NULL,
	"pay_token" text NOT NULL,
	"payment_attempts" integer DEFAULT 0 NOT NULL,
	"payment_method" text,
	"payment_reference" text,
	"manual_paid_on" text,
	"paid_at" timestamp with time zone,
	"paid_by_user_id" text,
	"stripe_checkout_session_id" text,
	"stripe_payment_intent_id" text,
	"stripe_payment_status" text,
	"stripe_last_event_at" timestamp with time zone,
	"voided_at" timestamp with time zone,
	"void_reason" text,
	"created_by_user_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "billing_records_payToken_unique" UNIQUE("pay_token")
);
--> statement-breakpoint
CREATE TABLE "workspace_stripe_accounts" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"secret_key_sealed" text NOT NULL,
	"key_kind" text NOT NULL,
	"mode" text NOT NULL,
	"key_last4" text NOT NULL,
	"webhook_secret_sealed" text,
	"webhook_secret_last4" text,
	"stripe_account_id" text,
	"verified_at" timestamp with time zone,
	"webhook_endpoint_id" text,
	"webhook_endpoint_registered_at" timestamp with time zone,
	"saved_by_user_id" text NOT NULL,
	"saved_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint


ALTER TABLE "ledger_entries" ADD COLUMN "billing_record_id" text;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "created_by_user_id" text;--> statement-breakpoint
ALTER TABLE "stripe_events" ADD COLUMN "scope" text DEFAULT 'deployment' NOT NULL;--> statement-breakpoint
ALTER TABLE "stripe_events" ALTER COLUMN "scope" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "stripe_events" DROP CONSTRAINT "stripe_events_pkey";--> statement-breakpoint
ALTER TABLE "stripe_events" ADD CONSTRAINT "stripe_events_scope_id_pk" PRIMARY KEY("scope","id");--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_record_checkouts" ADD CONSTRAINT "billing_record_checkouts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_record_checkouts" ADD CONSTRAINT "billing_record_checkouts_billing_record_id_billing_records_id_fk" FOREIGN KEY ("billing_record_id") REFERENCES "public"."billing_records"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_records" ADD CONSTRAINT "billing_records_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_records" ADD CONSTRAINT "billing_records_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_stripe_accounts" ADD CONSTRAINT "workspace_stripe_accounts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_workspace_id_created_at_idx" ON "audit_log" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_record_checkouts_billing_record_id_attempt_key" ON "billing_record_checkouts" USING btree ("billing_record_id","attempt");--> statement-breakpoint
CREATE INDEX "billing_records_workspace_id_status_due_date_idx" ON "billing_records" USING btree ("workspace_id","status","due_date");--> statement-breakpoint
CREATE INDEX "billing_records_customer_id_created_at_idx" ON "billing_records" USING btree ("customer_id","created_at");--> statement-breakpoint
CREATE INDEX "stripe_events_workspace_id_received_at_idx" ON "stripe_events" USING btree ("workspace_id","received_at");