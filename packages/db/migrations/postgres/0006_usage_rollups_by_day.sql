DROP INDEX "usage_daily_rollups_meter_id_day_idx";--> statement-breakpoint
ALTER TABLE "usage_daily_rollups" DROP CONSTRAINT "usage_daily_rollups_customer_id_meter_id_day_pk";--> statement-breakpoint
ALTER TABLE "usage_daily_rollups" ADD CONSTRAINT "usage_daily_rollups_day_meter_id_customer_id_pk" PRIMARY KEY("day","meter_id","customer_id");--> statement-breakpoint
CREATE INDEX "usage_daily_rollups_customer_id_meter_id_day_idx" ON "usage_daily_rollups" USING btree ("customer_id","meter_id","day");