import * as v from 'valibot';
import { MAX_REQUEST_USD } from './money.js';
import type { PlatformPage } from './paginate.js';

/**
 * Valibot schemas of the Platform API's answers (fal-platform-api.md §1–§5), each turning fal's
 * snake_case JSON into the camelCase objects the client returns. Fields fal documents as
 * optional stay optional; unknown fields are ignored so additions on fal's side never break.
 */

/**
 * A number as fal may send it: a JSON number, an exact big integer (`bigint` from the exact
 * parser) or [?] a numeric string (one public client shows `unit_price: "0.003"`).
 */
const Num = v.pipe(
  v.union([
    v.number(),
    v.pipe(v.bigint(), v.transform(Number)),
    v.pipe(v.string(), v.regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/), v.transform(Number)),
  ]),
  // 1e999 parses to Infinity; no count, duration or amount of fal's is one.
  v.finite(),
);
const NullableNum = v.nullable(Num);
/**
 * A price, a cost or a balance: finite and never below zero. These are cached on disk and
 * budgets are settled with them, so one that is not is refused here, once, for every caller.
 */
const Amount = v.pipe(Num, v.minValue(0));
const NullableAmount = v.nullable(Amount);
const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
/** fal's ids are `owner/app[/path]`; longer is not an endpoint id (the caches keep ≤ 300). */
const EndpointId = Text(300);
/** `images`, `megapixels`, `1000 characters`, … */
const Unit = Text(100);
const Currency = v.optional(Text(10), 'USD');
const OptString = v.optional(v.nullable(v.string()));
const Cursor = v.optional(v.nullable(v.string()), null);
const HasMore = v.optional(v.boolean(), false);

const nonNull = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/** A page of a list call: `{<key>: [item…], next_cursor, has_more}` as a {@link PlatformPage}. */
function pageSchema<TItem extends v.GenericSchema>(
  key: string,
  item: TItem,
): v.GenericSchema<unknown, PlatformPage<v.InferOutput<TItem>>> {
  return v.pipe(
    v.object({ [key]: v.array(item), next_cursor: Cursor, has_more: HasMore }),
    v.transform((page) => ({
      items: page[key] as v.InferOutput<TItem>[],
      nextCursor: page.next_cursor as string | null,
      hasMore: page.has_more as boolean,
    })),
  );
}

/** A usage or analytics page: buckets over time and/or one summary line per endpoint. */
function seriesPageSchema<TItem extends v.GenericSchema>(item: TItem) {
  return v.pipe(
    v.object({
      time_series: v.optional(v.array(v.object({ bucket: v.string(), results: v.array(item) }))),
      summary: v.optional(v.array(item)),
      next_cursor: Cursor,
      has_more: HasMore,
    }),
    v.transform((page) => ({
      timeSeries: page.time_series,
      summary: page.summary,
      nextCursor: page.next_cursor,
      hasMore: page.has_more,
    })),
  );
}

/** `metadata` of a catalogue model. */
export const ModelMetadataSchema = v.pipe(
  v.object({
    display_name: v.string(),
    category: v.string(),
    description: v.optional(v.string(), ''),
    status: v.optional(v.string(), 'active'),
    tags: v.optional(v.array(v.string()), []),
    updated_at: OptString,
    is_favorited: v.optional(v.nullable(v.boolean()), null),
    thumbnail_url: OptString,
    thumbnail_animated_url: OptString,
    model_url: OptString,
    github_url: OptString,
    license_type: OptString,
    date: OptString,
    group: v.optional(v.nullable(v.object({ key: v.string(), label: v.string() }))),
    highlighted: v.optional(v.boolean(), false),
    kind: OptString,
    training_endpoint_ids: v.optional(v.nullable(v.array(v.string()))),
    inference_endpoint_ids: v.optional(v.nullable(v.array(v.string()))),
    stream_url: OptString,
    duration_estimate: v.optional(NullableNum),
    pinned: v.optional(v.boolean(), false),
  }),
  v.transform((m) => ({
    displayName: m.display_name,
    category: m.category,
    description: m.description,
    status: m.status,
    tags: m.tags,
    updatedAt: nonNull(m.updated_at),
    isFavorited: m.is_favorited,
    thumbnailUrl: nonNull(m.thumbnail_url),
    thumbnailAnimatedUrl: nonNull(m.thumbnail_animated_url),
    modelUrl: nonNull(m.model_url),
    githubUrl: nonNull(m.github_url),
    licenseType: nonNull(m.license_type),
    date: nonNull(m.date),
    group: nonNull(m.group),
    highlighted: m.highlighted,
    kind: nonNull(m.kind),
    trainingEndpointIds: nonNull(m.training_endpoint_ids),
    inferenceEndpointIds: nonNull(m.inference_endpoint_ids),
    streamUrl: nonNull(m.stream_url),
    /** Seconds fal expects a request to take: an ETA before the first status arrives. */
    durationEstimate: nonNull(m.duration_estimate),
    pinned: m.pinned,
  })),
);
export type PlatformModelMetadata = v.InferOutput<typeof ModelMetadataSchema>;

const OpenApiErrorSchema = v.object({
  error: v.object({ code: v.optional(v.string(), 'unknown'), message: v.optional(v.string(), '') }),
});

/** One catalogue entry. */
export const ModelSchema = v.pipe(
  v.object({
    endpoint_id: EndpointId,
    metadata: v.optional(v.nullable(ModelMetadataSchema)),
    openapi: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
    enterprise_status: v.optional(v.unknown()),
  }),
  v.transform((m) => {
    const error = v.safeParse(OpenApiErrorSchema, m.openapi);
    return {
      endpointId: m.endpoint_id,
      metadata: nonNull(m.metadata),
      /** The queue OpenAPI 3.0 document (with `expand=openapi-3.0`), for `convertOpenApi`. */
      openapi: m.openapi && !error.success ? m.openapi : undefined,
      /** Set when fal could not produce the document. */
      openapiError: error.success ? error.output.error : undefined,
      enterpriseStatus: m.enterprise_status,
    };
  }),
);
export type PlatformModel = v.InferOutput<typeof ModelSchema>;

export const ModelsPageSchema = pageSchema('models', ModelSchema);

/** One unit price. */
export const PriceSchema = v.pipe(
  v.object({
    endpoint_id: EndpointId,
    unit_price: Amount,
    unit: Unit,
    currency: Currency,
  }),
  v.transform((p) => ({
    endpointId: p.endpoint_id,
    unitPrice: p.unit_price,
    /** Free text: `images`, `megapixels`, `seconds`, `1000 characters`, `units`, … */
    unit: p.unit,
    currency: p.currency,
  })),
);
export type PlatformPrice = v.InferOutput<typeof PriceSchema>;

export const PricesPageSchema = pageSchema('prices', PriceSchema);

export const EstimateSchema = v.pipe(
  v.object({ estimate_type: v.string(), total_cost: Amount, currency: Currency }),
  v.transform((e) => ({
    estimateType: e.estimate_type,
    totalCost: e.total_cost,
    currency: e.currency,
  })),
);
export type PlatformEstimate = v.InferOutput<typeof EstimateSchema>;

/** One request of fal's request history (by endpoint or search). */
export const RequestItemSchema = v.pipe(
  v.object({
    request_id: v.string(),
    endpoint_id: EndpointId,
    started_at: OptString,
    sent_at: OptString,
    ended_at: OptString,
    status_code: v.optional(NullableNum),
    duration: v.optional(NullableNum),
    json_input: v.optional(v.unknown()),
    json_output: v.optional(v.unknown()),
    similarity: v.optional(NullableNum),
  }),
  v.transform((r) => ({
    requestId: r.request_id,
    endpointId: r.endpoint_id,
    startedAt: nonNull(r.started_at),
    sentAt: nonNull(r.sent_at),
    endedAt: nonNull(r.ended_at),
    statusCode: nonNull(r.status_code),
    /** Seconds. */
    duration: nonNull(r.duration),
    /** The request's input (with `payloads: true`). */
    input: r.json_input,
    /** The request's output or error body (with `payloads: true`). */
    output: r.json_output,
    /** 0–1, for semantic searches. */
    similarity: nonNull(r.similarity),
  })),
);
export type PlatformRequest = v.InferOutput<typeof RequestItemSchema>;

export const RequestsPageSchema = pageSchema('items', RequestItemSchema);

export const SearchPageSchema = pageSchema('results', RequestItemSchema);

/** One billing event: the actual cost of one request. */
export const BillingEventSchema = v.pipe(
  v.object({
    request_id: v.string(),
    endpoint_id: EndpointId,
    timestamp: v.string(),
    output_units: v.optional(NullableNum, null),
    unit_price: v.optional(NullableAmount, null),
    percent_discount: v.optional(NullableNum, null),
    cost_subtotal: v.optional(NullableAmount, null),
    cost_discount: v.optional(NullableNum, null),
    /** What the request cost: settles budgets and fills in records, so bounded like estimates. */
    cost_total: v.optional(v.nullable(v.pipe(Amount, v.maxValue(MAX_REQUEST_USD))), null),
    cost_estimate_nano_usd: v.optional(NullableAmount, null),
  }),
  v.transform((e) => ({
    requestId: e.request_id,
    endpointId: e.endpoint_id,
    timestamp: e.timestamp,
    outputUnits: e.output_units,
    unitPrice: e.unit_price,
    percentDiscount: e.percent_discount,
    costSubtotal: e.cost_subtotal,
    costDiscount: e.cost_discount,
    costTotal: e.cost_total,
    costEstimateNanoUsd: e.cost_estimate_nano_usd,
  })),
);
export type PlatformBillingEvent = v.InferOutput<typeof BillingEventSchema>;

export const BillingEventsPageSchema = pageSchema('billing_events', BillingEventSchema);

export const AccountBillingSchema = v.pipe(
  v.object({
    username: v.string(),
    credits: v.optional(v.nullable(v.object({ current_balance: Amount, currency: Currency }))),
  }),
  v.transform((a) => ({
    username: a.username,
    credits: a.credits
      ? { currentBalance: a.credits.current_balance, currency: a.credits.currency }
      : undefined,
  })),
);
export type PlatformAccountBilling = v.InferOutput<typeof AccountBillingSchema>;

/** One analytics row: the endpoint and the metrics that were asked for (seconds, counts). */
export const AnalyticsRecordSchema = v.pipe(
  v.objectWithRest({ endpoint_id: EndpointId }, v.unknown()),
  v.transform(({ endpoint_id, ...rest }) => {
    const metrics: Record<string, number | null> = {};
    for (const [name, value] of Object.entries(rest)) {
      if (typeof value === 'number') metrics[name] = value;
      else if (typeof value === 'bigint') metrics[name] = Number(value);
      else if (value === null) metrics[name] = null;
    }
    return { endpointId: endpoint_id, metrics };
  }),
);
export type PlatformAnalyticsRecord = v.InferOutput<typeof AnalyticsRecordSchema>;

export const AnalyticsPageSchema = seriesPageSchema(AnalyticsRecordSchema);
export type PlatformAnalytics = v.InferOutput<typeof AnalyticsPageSchema>;

/** One usage line: billed quantity and cost of an endpoint. */
export const UsageLineSchema = v.pipe(
  v.object({
    endpoint_id: EndpointId,
    unit: v.optional(Unit, ''),
    quantity: v.optional(Num, 0),
    unit_price: v.optional(NullableAmount, null),
    percent_discount: v.optional(NullableNum, null),
    cost_subtotal: v.optional(NullableAmount, null),
    cost_discount: v.optional(NullableNum, null),
    cost_total: v.optional(NullableAmount, null),
    cost: v.optional(NullableAmount, null),
    currency: Currency,
  }),
  v.transform((u) => ({
    endpointId: u.endpoint_id,
    unit: u.unit,
    quantity: u.quantity,
    unitPrice: u.unit_price,
    percentDiscount: u.percent_discount,
    costSubtotal: u.cost_subtotal,
    costDiscount: u.cost_discount,
    costTotal: u.cost_total,
    cost: u.cost,
    currency: u.currency,
  })),
);
export type PlatformUsageLine = v.InferOutput<typeof UsageLineSchema>;

export const UsagePageSchema = seriesPageSchema(UsageLineSchema);
export type PlatformUsage = v.InferOutput<typeof UsagePageSchema>;

export const MetaSchema = v.pipe(
  v.object({ webhook_ip_ranges: v.optional(v.array(v.string()), []) }),
  v.transform((m) => ({ webhookIpRanges: m.webhook_ip_ranges })),
);
export type PlatformMeta = v.InferOutput<typeof MetaSchema>;

/** The Platform error envelope: `{"error": {"type", "message", "docs_url"?, "request_id"?}}`. */
export const ErrorEnvelopeSchema = v.object({
  error: v.object({
    type: v.optional(v.string()),
    message: v.optional(v.string()),
    docs_url: v.optional(v.nullable(v.string())),
    request_id: v.optional(v.nullable(v.string())),
  }),
});
