import { describe, expect, it } from 'vitest';
import { migrateSeedPending } from '../../src/store/index.js';

const now = new Date('2026-03-01T00:00:00.000Z');

describe('seed entries name their endpoint under model_id, or model', () => {
  it('maps model (and endpoint_id / endpoint) when model_id is missing, without a warning', () => {
    const { records, warnings } = migrateSeedPending(
      {
        requests: [
          { request_id: 'a', model: 'fal-ai/nano-banana-pro', status: 'IN_QUEUE' },
          { request_id: 'b', endpoint_id: 'fal-ai/flux/dev', status: 'IN_PROGRESS' },
          { request_id: 'c', endpoint: 'fal-ai/veo3', status: 'IN_QUEUE' },
        ],
      },
      { now },
    );
    expect(records.map((record) => record.endpointId)).toEqual([
      'fal-ai/nano-banana-pro',
      'fal-ai/flux/dev',
      'fal-ai/veo3',
    ]);
    // The key that gave the endpoint is not kept a second time as a tag.
    expect(records[0]?.tags).toEqual({ origin: 'seed' });
    expect(warnings.filter((warning) => /model/.test(warning))).toEqual([]);
  });

  it('model_id wins over model; the other is kept as a tag', () => {
    const { records } = migrateSeedPending(
      {
        requests: [
          { request_id: 'a', model_id: 'fal-ai/flux/dev', model: 'flux', status: 'IN_QUEUE' },
        ],
      },
      { now },
    );
    expect(records[0]).toMatchObject({
      endpointId: 'fal-ai/flux/dev',
      tags: { origin: 'seed', 'seed.model': 'flux' },
    });
  });

  it('with no endpoint at all the warning says how to name it', () => {
    const { records, warnings } = migrateSeedPending(
      { requests: [{ request_id: 'r-1', status: 'IN_QUEUE' }] },
      { now },
    );
    expect(records[0]?.endpointId).toBe('unknown');
    expect(warnings).toEqual([
      expect.stringMatching(
        /requests\[0\] \(r-1\) has no model_id \(nor model\).*falai status <endpoint> r-1/,
      ),
      expect.stringContaining('no usable submitted_at'),
    ]);
  });
});
