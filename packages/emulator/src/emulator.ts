import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAuth, type KeyPolicy } from './auth.js';
import { FaultInjector, type ResolvedFault } from './faults.js';
import { FileStore } from './files.js';
import {
  BodyError,
  parseJson,
  queryRecord,
  readBody,
  redactHeaders,
  sendJson,
} from './http-util.js';
import { createRequestIdFactory, parseEndpointId, preciseNow } from './ids.js';
import { FAL_RETENTION, isExpired, type Job, Scheduler } from './jobs.js';
import { loggable } from './json.js';
import { loadModels } from './models.js';
import { billableUnits, generateOutput } from './outputs.js';
import { createPlatform } from './platform/server.js';
import { createPrng } from './prng.js';
import { createRateLimiter } from './rate-limit.js';
import { classify, METHODS, type Route } from './routes.js';
import { serveStatusStream } from './sse.js';
import { statusBody } from './status-body.js';
import { Storage } from './storage.js';
import type { TransferShape } from './transfer.js';
import type {
  Emulator,
  EmulatorOptions,
  EmulatorStats,
  JobInfo,
  LoggedRequest,
  ModelBehaviour,
  RequestKind,
} from './types.js';
import {
  DEFAULT_PAYLOAD_ERROR,
  deliverWebhook,
  FAL_WEBHOOK_RETRIES,
  FAL_WEBHOOK_SPAN_MS,
  retrySchedule,
} from './webhook-delivery.js';
import { userIdFor, WebhookSigner } from './webhooks.js';

const KINDS: RequestKind[] = [
  'submit',
  'status',
  'stream',
  'result',
  'cancel',
  'upload-initiate',
  'upload-put',
  'upload-part',
  'upload-complete',
  'file',
  'jwks',
  'webhook-delivery',
  'admin',
  'platform',
  'other',
];

/** fal's concurrency limit for new accounts (reference §8): 2 requests IN_PROGRESS. */
const FAL_DEFAULT_CONCURRENCY = 2;

const copyJob = (job: Job): JobInfo => ({ ...job.info, logs: [...job.info.logs] });

function parseLogsFlag(value: string | null): boolean {
  return value === '1' || value === 'true';
}

function parseLifecycle(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Starts a local fal.ai on 127.0.0.1: queue submit/status/stream/result/cancel, storage
 * uploads, files, signed webhooks and real media outputs, with controls for tests.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const deterministic = options.deterministic ?? false;
  const seed = options.seed ?? (deterministic ? 1 : Math.floor(Math.random() * 2 ** 32));
  // Separate streams so that fault draws do not depend on when outputs happen to be made.
  const prng = createPrng(seed);
  const faultPrng = createPrng(seed ^ 0x9e3779b9);
  const deliveryPrng = createPrng(seed ^ 0x5bd1e995);
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) {
    throw new RangeError(`timeScale must be a positive number, got ${String(options.timeScale)}`);
  }
  const strict = options.strict ?? false;
  const bandwidth = options.bandwidth;
  const concurrency = options.concurrency ?? FAL_DEFAULT_CONCURRENCY;
  const webhookRetryDelays =
    options.webhook?.retryDelayMs !== undefined
      ? Array.from(
          { length: options.webhook.retries ?? FAL_WEBHOOK_RETRIES },
          () => options.webhook?.retryDelayMs ?? 0,
        )
      : retrySchedule(
          options.webhook?.retries ?? FAL_WEBHOOK_RETRIES,
          (options.webhook?.spanMs ?? FAL_WEBHOOK_SPAN_MS) * timeScale,
        );
  const payloadErrorRate = options.webhook?.payloadErrorRate ?? 0;
  const rateLimiter = options.rateLimit ? createRateLimiter(options.rateLimit) : undefined;
  let rateLimitedCount = 0;
  const nextRequestId = createRequestIdFactory(deterministic);
  const { models } = loadModels(options.modelsDirs, { builtIn: options.builtInModels !== false });
  const files = await FileStore.create();
  const signer = new WebhookSigner();
  const faults = new FaultInjector(faultPrng);
  const behaviours = new Map<string, ModelBehaviour>();
  const jobs = new Map<string, Job>();
  const streams = new Set<ServerResponse>();
  const emitter = new EventEmitter();
  const shutdown = new AbortController();
  const deliveries = new Set<Promise<void>>();
  const keyPolicy: KeyPolicy = {
    // ADMIN keys (Platform API) run models too, as fal's do.
    // (`accept: 'any'` stays 'any': spreading the string would accept only keys 'a', 'n', 'y'.)
    accept: Array.isArray(options.keys?.accept)
      ? [...options.keys.accept, ...(options.platform?.adminKeys ?? [])]
      : 'any',
    locked: options.keys?.locked ?? [],
  };
  const defaults = {
    queueMs: options.defaultLatency?.queueMs ?? 50,
    runMs: options.defaultLatency?.runMs ?? 300,
  };
  const logRequests = options.logRequests ?? true;
  const keepAliveMs = options.sseKeepAliveMs ?? 15_000;
  let log: LoggedRequest[] = [];
  const counts = Object.fromEntries(KINDS.map((kind) => [kind, 0])) as Record<RequestKind, number>;
  let faultCount = 0;
  let seq = 0;
  let origin = '';

  const record = (entry: LoggedRequest): void => {
    counts[entry.kind] += 1;
    if (logRequests) log.push(entry);
  };

  const storage = new Storage(files, () => origin, deterministic);
  const platform = createPlatform(options.platform ?? {}, {
    jobs: () => jobs.values(),
    keyPolicy,
    now: () => Date.now(),
  });

  const retention = {
    ...FAL_RETENTION,
    smallMs: FAL_RETENTION.smallMs * timeScale,
    largeMs: FAL_RETENTION.largeMs * timeScale,
  };
  const scheduler = new Scheduler(concurrency, deterministic, retention, {
    generateOutput: (job) => {
      const context = {
        endpointId: job.info.endpointId,
        requestId: job.info.requestId,
        definition: job.definition,
        input: job.info.input,
        // Per-job stream: outputs (colours, seeds) do not depend on completion order.
        prng: createPrng((seed + (job.seq + 1) * 0x85ebca6b) >>> 0),
        files,
        origin,
        runSeconds: job.runMs / 1000,
        nsfw: job.behaviour.nsfw,
      };
      // Catalogue models whose output is one image or audio come from the Platform side.
      return platform.generateOutput(context) ?? generateOutput(context);
    },
    successHeaders: async (job, output): Promise<Record<string, string>> => {
      const units =
        job.behaviour.billableUnits ??
        (await platform.billableUnits(job, output)) ??
        (await billableUnits(output, job.info.input, job.definition));
      return units !== undefined ? { 'x-fal-billable-units': String(units) } : {};
    },
    onCompleted: (job) => {
      emitter.emit('completed', copyJob(job));
      if (job.info.webhookUrl) {
        const configured = job.behaviour.webhookPayloadError;
        const payloadError =
          typeof configured === 'string'
            ? configured
            : configured === true ||
                (payloadErrorRate > 0 && deliveryPrng.next() < payloadErrorRate)
              ? DEFAULT_PAYLOAD_ERROR
              : undefined;
        const delivery = deliverWebhook(job, {
          signer,
          retryDelays: webhookRetryDelays,
          payloadError,
          record,
          signal: shutdown.signal,
        }).finally(() => deliveries.delete(delivery));
        deliveries.add(delivery);
      }
    },
  });

  /**
   * Applies the `rateLimit` option to one call of a key: true (and a 429 sent) when the key has
   * used up its window. [?] fal's queue publishes no such limit and its 429 body is unknown.
   */
  const rateLimited = (res: ServerResponse, keyId: string): boolean => {
    const retryAfter = rateLimiter?.hit(keyId);
    if (!rateLimiter || retryAfter === undefined) return false;
    rateLimitedCount += 1;
    const detail = rateLimiter.message(retryAfter);
    sendJson(res, 429, { detail }, { 'retry-after': String(retryAfter) });
    return true;
  };

  /** Endpoint ids strict mode accepts: loaded definitions and models given a behaviour. */
  const known = (endpointId: string) =>
    models.has(endpointId) ||
    platform.knows(endpointId) ||
    (endpointId !== '*' && behaviours.has(endpointId));

  const findJob = (prefix: string, requestId: string): Job | undefined => {
    const job = jobs.get(requestId);
    // Served under the owner/alias base and (unless strict) under the full id (reference
    // §2); another app's request id is a 404.
    if (!job || (prefix !== job.base && prefix !== job.info.endpointId)) return undefined;
    // [?] After its retention period a request is gone: status, result and cancel are 404
    // like an unknown id (fal documents the retention, not the answer after it).
    if (isExpired(job)) return undefined;
    return job;
  };

  const notFound = (res: ServerResponse, requestId: string) =>
    sendJson(res, 404, { status: 'NOT_FOUND', detail: `Request ${requestId} not found` });

  async function submit(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    endpointId: string,
    entry: LoggedRequest,
    fault: ResolvedFault | undefined,
  ): Promise<void> {
    const auth = checkAuth(req, keyPolicy, true);
    const input = parseJson(await readBody(req));
    entry.body = loggable(input);
    if (!auth.ok) return sendJson(res, auth.status, auth.body);
    if (rateLimited(res, auth.keyId)) return;
    const parsed = parseEndpointId(endpointId);
    if (!parsed) {
      return sendJson(res, 404, { detail: `Invalid app id: ${endpointId}` });
    }
    if (strict && !known(endpointId)) {
      // [?] The live body for an unknown endpoint is not recorded; the 404 is.
      return sendJson(res, 404, {
        detail: `Endpoint '${endpointId}' not found. Check the endpoint id (owner/alias[/path]).`,
      });
    }
    const timeoutHeader = req.headers['x-fal-request-timeout'];
    let startTimeoutSeconds: number | undefined;
    if (typeof timeoutHeader === 'string') {
      startTimeoutSeconds = Number.parseFloat(timeoutHeader);
      // [?] fal's answer to a malformed timeout is unconfirmed; a 400 makes client bugs loud.
      if (!Number.isFinite(startTimeoutSeconds) || startTimeoutSeconds <= 0) {
        return sendJson(res, 400, {
          detail: `x-fal-request-timeout must be a positive number of seconds, got "${timeoutHeader}"`,
        });
      }
    }
    const behaviour = { ...(behaviours.get(endpointId) ?? behaviours.get('*')) };
    const requestId = nextRequestId();
    const priorityHeader = req.headers['x-fal-queue-priority'];
    const hint = req.headers['x-fal-runner-hint'];
    const lifecycle = req.headers['x-fal-object-lifecycle-preference'];
    const job: Job = {
      info: {
        requestId,
        endpointId,
        input: input ?? {},
        status: 'IN_QUEUE',
        submittedAt: preciseNow(),
        cancelled: false,
        priority: priorityHeader === 'low' ? 'low' : 'normal',
        runnerHint: typeof hint === 'string' ? hint : undefined,
        startTimeoutSeconds,
        lifecyclePreference: parseLifecycle(typeof lifecycle === 'string' ? lifecycle : undefined),
        webhookUrl: url.searchParams.get('fal_webhook') ?? undefined,
        userId: userIdFor(auth.keyId),
        logs: [],
      },
      base: parsed.base,
      seq: seq++,
      behaviour,
      definition: models.get(endpointId) ?? platform.definition(endpointId),
      queueMs: prng.duration(behaviour.queueMs, prng.duration(defaults.queueMs, 50)),
      runMs: prng.duration(behaviour.runMs, prng.duration(defaults.runMs, 300)),
      eligible: false,
      queuedAtMono: performance.now(),
      timers: new Set(),
      changes: new EventEmitter(),
    };
    job.changes.setMaxListeners(0);
    jobs.set(requestId, job);
    entry.requestId = requestId;
    scheduler.enqueue(job);
    if (fault?.type === 'drop-after-accept') {
      res.destroy();
      return;
    }
    // `gateway_request_id` equals `request_id` until a server-side retry (reference §3).
    const body = {
      ...statusBody(job, origin, scheduler.queuePosition(job), []),
      gateway_request_id: requestId,
    };
    sendJson(res, 200, body, { 'x-fal-request-id': requestId });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', origin);
    const route: Route = classify(method, url.pathname);
    const entry: LoggedRequest = {
      time: Date.now(),
      method,
      path: url.pathname,
      query: queryRecord(url),
      headers: redactHeaders(req.headers),
      status: 0,
      kind: route.kind,
    };
    if (route.kind === 'submit') entry.endpointId = route.endpointId;
    if ('requestId' in route) {
      entry.requestId = route.requestId;
      entry.endpointId = jobs.get(route.requestId)?.info.endpointId;
    }
    record(entry);
    res.on('close', () => {
      entry.status = res.headersSent ? res.statusCode : 0;
    });

    const fault = faults.pick({
      kind: route.kind,
      method,
      path: url.pathname,
      endpointId: entry.endpointId,
    });
    if (fault) {
      faultCount += 1;
      entry.fault = fault.type;
      if (fault.type === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault.type === 'status') {
        req.resume();
        const headers = { ...fault.headers };
        if (fault.retryAfterSeconds !== undefined) {
          headers['retry-after'] = String(fault.retryAfterSeconds);
        }
        const body = fault.body ?? { detail: `Emulated fault: HTTP ${fault.status}` };
        return sendJson(res, fault.status, body, headers);
      }
      if (fault.type === 'delay') {
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (res.destroyed) return;
      }
    }
    const transfer: TransferShape = {
      bandwidth,
      stallAfter: fault?.type === 'stall' ? Math.max(0, fault.afterBytes ?? 0) : undefined,
    };

    const allowed = METHODS[route.kind];
    if (allowed && !allowed.includes(method)) {
      req.resume();
      return sendJson(res, 405, { detail: 'Method Not Allowed' });
    }

    switch (route.kind) {
      case 'submit':
        return submit(req, res, url, route.endpointId, entry, fault);
      case 'status':
      case 'stream':
      case 'result':
      case 'cancel': {
        req.resume();
        const auth = checkAuth(req, keyPolicy, false);
        if (!auth.ok) return sendJson(res, auth.status, auth.body);
        if (rateLimited(res, auth.keyId)) return;
        if (strict && parseEndpointId(route.prefix)?.path !== undefined) {
          // The live queue answers 405 for status under the full id (reference §2, 3P): the
          // gateway reads owner/alias/<path> as a call to the app, which takes only POST.
          return sendJson(res, 405, { detail: 'Method Not Allowed' });
        }
        const job = findJob(route.prefix, route.requestId);
        if (!job) return notFound(res, route.requestId);
        const idHeader = { 'x-fal-request-id': job.info.requestId };
        if (route.kind === 'status') {
          const logs = parseLogsFlag(url.searchParams.get('logs')) ? [...job.info.logs] : [];
          const body = statusBody(job, origin, scheduler.queuePosition(job), logs);
          return sendJson(res, job.info.status === 'COMPLETED' ? 200 : 202, body, idHeader);
        }
        if (route.kind === 'stream') {
          return serveStatusStream(job, res, parseLogsFlag(url.searchParams.get('logs')), {
            origin,
            keepAliveMs,
            queuePosition: (item) => scheduler.queuePosition(item),
            streams,
          });
        }
        if (route.kind === 'result') {
          if (!job.result) {
            // [?] Code 400 comes from a fal SDK test; the body text is a guess (reference §5).
            return sendJson(res, 400, { detail: 'Request is still in progress' }, idHeader);
          }
          return sendJson(res, job.result.status, job.result.body, {
            ...job.result.headers,
            ...idHeader,
          });
        }
        // [?] Cancel codes are unconfirmed (reference §6): 202 CANCELLATION_REQUESTED,
        // 400 ALREADY_COMPLETED, 404 NOT_FOUND.
        if (!scheduler.cancel(job)) {
          return sendJson(res, 400, { status: 'ALREADY_COMPLETED' }, idHeader);
        }
        return sendJson(res, 202, { status: 'CANCELLATION_REQUESTED' }, idHeader);
      }
      case 'upload-initiate': {
        const auth = checkAuth(req, keyPolicy, false);
        if (!auth.ok) {
          req.resume();
          return sendJson(res, auth.status, auth.body);
        }
        if (rateLimited(res, auth.keyId)) {
          req.resume();
          return;
        }
        entry.body = loggable(
          await storage.initiate(req, res, route.multipart, url.searchParams.get('storage_type')),
        );
        return;
      }
      case 'upload-put':
        entry.body = await storage.put(route.token, req, res, transfer);
        return;
      case 'upload-part':
        entry.body = await storage.putPart(route.token, route.part, req, res, transfer);
        return;
      case 'upload-complete':
        entry.body = await storage.complete(route.token, req, res);
        return;
      case 'file':
        req.resume();
        return files.serve(url.pathname, res, method === 'HEAD', transfer);
      case 'admin':
        req.resume();
        return sendJson(res, 200, {
          ...stats(),
          concurrency: Number.isFinite(concurrency) ? concurrency : null,
        });
      case 'jwks':
        req.resume();
        return sendJson(res, 200, signer.jwks, { 'cache-control': 'max-age=60' });
      case 'platform':
        return platform.handle(req, res, url, entry);
      default: {
        req.resume();
        if (route.token && method === 'POST') {
          // Temporary tokens for the JS client's `connectionMode: "client"`; any string works.
          const auth = checkAuth(req, keyPolicy, false);
          if (!auth.ok) return sendJson(res, auth.status, auth.body);
          return sendJson(res, 200, 'emulator-temporary-token');
        }
        return sendJson(res, 404, { detail: `Not Found: ${method} ${url.pathname}` });
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof BodyError) return sendJson(res, error.status, { detail: error.message });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, {
        detail: `Emulator internal error: ${(error as Error).message}`,
        error_type: 'internal_error',
      });
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  let closed = false;

  const stats = (): EmulatorStats => {
    const uploadKinds: RequestKind[] = [
      'upload-initiate',
      'upload-put',
      'upload-part',
      'upload-complete',
    ];
    return {
      submits: counts.submit,
      statusCalls: counts.status,
      resultCalls: counts.result,
      streamCalls: counts.stream,
      cancelCalls: counts.cancel,
      uploadCalls: uploadKinds.reduce((sum, kind) => sum + counts[kind], 0),
      fileCalls: counts.file,
      webhookDeliveries: counts['webhook-delivery'],
      faults: faultCount,
      rateLimited: rateLimitedCount,
      peakRunning: Object.fromEntries(scheduler.peaks),
      total: KINDS.reduce((sum, kind) => sum + counts[kind], 0),
      byKind: { ...counts },
    };
  };

  return {
    url: origin,
    port: address.port,
    async close() {
      if (closed) return;
      closed = true;
      shutdown.abort();
      scheduler.close(jobs.values());
      for (const stream of streams) stream.end();
      streams.clear();
      await Promise.allSettled([...deliveries]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await files.close();
    },
    setModel(endpointId, behaviour) {
      behaviours.set(endpointId, { ...behaviour });
    },
    inject: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    get log() {
      return log;
    },
    clearLog() {
      log = [];
    },
    job(requestId) {
      const job = jobs.get(requestId);
      return job ? copyJob(job) : undefined;
    },
    jobs: () => [...jobs.values()].map(copyJob),
    get stats() {
      return stats();
    },
    resetStats() {
      for (const kind of KINDS) counts[kind] = 0;
      faultCount = 0;
      rateLimitedCount = 0;
      scheduler.resetPeaks();
    },
    on(event, listener) {
      emitter.on(event, listener);
    },
    off(event, listener) {
      emitter.off(event, listener);
    },
    get jwks() {
      return signer.jwks;
    },
    rotateWebhookKey: (rotateOptions) => signer.rotate(rotateOptions?.keepPrevious ?? false),
    models: [...models.keys()].sort(),
    userId: (key) => userIdFor(key.includes(':') ? key.slice(0, key.indexOf(':')) : key),
  };
}
