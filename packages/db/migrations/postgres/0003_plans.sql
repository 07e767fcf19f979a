CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"features" text DEFAULT '[]' NOT NULL,
	"stripe_price_id" text NOT NULL,
	"stripe_yearly_price_id" text,
	"per_seat" boolean DEFAULT false NOT NULL,
	"trial_days" integer DEFAULT 0 NOT NULL,
	"issues_licenses" boolean DEFAULT false NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"price_cache" text,
	"price_cached_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "plans_workspace_id_code_key" ON "plans" USING btree ("workspace_id","code");