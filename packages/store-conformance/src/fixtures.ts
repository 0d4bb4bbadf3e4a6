import { randomUUID } from 'node:crypto';
import type { PendingRecord } from '@falai/core/store-kit';

/** A request id no other test uses, so stores can share a backend between tests. */
export function randomId(label = 'req'): string {
  return `${label}-${randomUUID()}`;
}

/** A minimal valid record: only the required fields. */
export function minimalRecord(overrides: Partial<PendingRecord> = {}): PendingRecord {
  return {
    requestId: randomId(),
    endpointId: 'fal-ai/flux/dev',
    status: 'queued',
    submittedAt: '2026-03-01T10:00:00.000Z',
    updatedAt: '2026-03-01T10:00:00.000Z',
    attempts: { submit: 1, poll: 0, errors: 0 },
    ...overrides,
  };
}

/** A record with every optional field set, including awkward values (unicode, nesting, 0). */
export function fullRecord(overrides: Partial<PendingRecord> = {}): PendingRecord {
  const requestId = overrides.requestId ?? randomId();
  return {
    requestId,
    endpointId: 'fal-ai/kling-video/o3/pro/video-to-video/edit',
    status: 'running',
    queuePosition: 0,
    submittedAt: '2026-03-01T10:00:00.000Z',
    updatedAt: '2026-03-01T10:05:30.250Z',
    urls: {
      status: `https://queue.fal.run/fal-ai/kling-video/requests/${requestId}/status`,
      response: `https://queue.fal.run/fal-ai/kling-video/requests/${requestId}`,
      cancel: `https://queue.fal.run/fal-ai/kling-video/requests/${requestId}/cancel`,
    },
    input: {
      fields: {
        prompt: 'a café at dusk — 夜の雨 🌧️ "quoted" \\ back\nslash',
        num_images: 2,
        seed: 0,
        enable_safety_checker: false,
        nested: { list: [1, 'two', null, { deep: true }], empty: {}, none: [] },
        video_url: '<file video_url>',
      },
      files: [
        {
          field: 'video_url',
          kind: 'path',
          location: '/home/me/clips/in put.mp4',
          digest: `sha256:${'ab'.repeat(32)}`,
          size: 1_048_576,
          mime: 'video/mp4',
          sentAs: 'upload',
          uploadedUrl: 'https://v3.fal.media/files/x/in.mp4',
        },
        {
          field: 'image_urls.0',
          kind: 'url',
          location: 'https://example.com/a.png',
          sentAs: 'url',
        },
        {
          field: 'image_urls.1',
          kind: 'data-uri',
          digest: `sha256:${'cd'.repeat(32)}`,
          size: 12,
          mime: 'image/png',
          sentAs: 'data-uri',
        },
      ],
    },
    webhookUrl: 'https://hooks.example.com/fal?team=1',
    result: { images: [{ url: 'https://v3.fal.media/files/y/out.png', width: 1024 }], seed: 42 },
    error: { code: 'REQUEST_FAILED', message: 'runner disconnected', details: { retry: true } },
    outputs: [{ url: 'https://v3.fal.media/files/y/out.png', path: '/tmp/out.png', size: 99 }],
    attempts: { submit: 2, poll: 7, errors: 1 },
    lease: { owner: 'host-a:123', expiresAt: '2099-01-01T00:00:00.000Z' },
    tags: { origin: 'test', 'with space': 'ünï' },
    ...overrides,
  };
}

/**
 * The race every cross-process store runs (`describeStoreProcesses`): 8 processes × 20
 * reservations of 0.1 USD against a cap of 2.3 USD. In floating point 23 × 0.1 is more than
 * 2.3, so only integer micro-dollars grant exactly 23 (`floor(cap / amount)`).
 */
export const BUDGET_RACE = {
  scope: 'daily:2026-03-01',
  endsAt: '2999-01-01T00:00:00.000Z',
  amountUsd: 0.1,
  capUsd: 2.3,
  granted: 23,
} as const;

/** What the budget writers of the crash test reserve (`describeStoreCrash`): a cap never met. */
export const BUDGET_CRASH = {
  scope: 'batch:crash',
  endsAt: '2999-01-01T00:00:00.000Z',
  amountUsd: 0.01,
  capUsd: 1_000_000,
} as const;
