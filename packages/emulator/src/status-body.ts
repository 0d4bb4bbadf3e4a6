import type { Job } from './jobs.js';
import type { LogEntry } from './types.js';

/**
 * The queue status object (reference §4): URL fields always, `queue_position` while queued,
 * `logs` once running, `metrics` and any `error`/`error_type` once completed.
 */
export function statusBody(
  job: Job,
  origin: string,
  queuePosition: number,
  logs: LogEntry[],
): Record<string, unknown> {
  const base = `${origin}/${job.base}/requests/${job.info.requestId}`;
  const body: Record<string, unknown> = {
    status: job.info.status,
    request_id: job.info.requestId,
    response_url: base,
    status_url: `${base}/status`,
    cancel_url: `${base}/cancel`,
  };
  if (job.info.status === 'IN_QUEUE') {
    body.queue_position = queuePosition;
    return body;
  }
  // [?] What fal sends as `logs` with logs=0 is unconfirmed; [] is safe for `logs.map()`.
  body.logs = logs;
  if (job.info.status === 'COMPLETED') {
    body.metrics = { inference_time: job.inferenceTime ?? null };
    const statusError = job.result?.statusError;
    if (statusError) {
      body.error = statusError.error;
      if (statusError.error_type) body.error_type = statusError.error_type;
    }
  }
  return body;
}
