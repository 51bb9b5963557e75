/**
 * The console API's request schemas: they check each request and make the OpenAPI document.
 */
import { z } from "zod";

export const moduleParam = z.enum(["copilot", "openai"], {
  error: "module must be copilot or openai",
});

export const pageQuery = z.strictObject({
  page: z.coerce.number().int().min(1, "page must be 1 or more").max(1_000_000).default(1),
  per_page: z.coerce
    .number()
    .int()
    .min(1, "per_page must be 1 or more")
    .max(500, "per_page must be at most 500")
    .default(50),
  sort: z.string().max(64).optional(),
  order: z.enum(["asc", "desc"], { error: "order must be asc or desc" }).optional(),
});

export const csvQuery = pageQuery.pick({ sort: true, order: true });

export const billingQuery = z.strictObject({
  month: z.string({ error: "month is required: YYYY-MM" }).regex(/^\d{4}-\d{2}$/, "month must be YYYY-MM"),
});

/** A pack request: a period, or a calendar month (what the dashboard's button sends). */
export const packBody = z.union(
  [
    z.strictObject({ period_start: z.string(), period_end: z.string() }),
    z.strictObject({ month: z.string().regex(/^\d{4}-\d{2}$/, "month must be YYYY-MM") }),
  ],
  { error: "send {period_start, period_end} (RFC 3339) or {month: YYYY-MM}" },
);
