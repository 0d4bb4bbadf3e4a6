import type { PendingRecord } from '@falai/core';
import { newPendingRecord } from '@falai/core/internal';
import { describe, expect, it } from 'vitest';
import { escapeHtml, jsonForScript, shellWord } from '../src/escape.js';
import {
  describeRecord,
  indexOutputs,
  inputsOf,
  linkChildren,
  readCost,
  resultUrls,
  seedText,
} from '../src/items.js';

/** A completed record with the given extra fields (provenance as the lifecycle writes it). */
function completed(id: string, extra: Record<string, unknown> = {}): PendingRecord {
  const base = newPendingRecord({
    requestId: id,
    endpointId: 'fal-ai/nano-banana-pro',
    now: new Date('2026-03-01T10:00:00Z'),
  });
  return {
    ...base,
    status: 'completed',
    completedAt: '2026-03-01T10:00:05.000Z',
    ...extra,
  } as PendingRecord;
}

describe('seeds keep every digit', () => {
  it('bigints, safe integers and digit strings are exact; rounded doubles are refused', () => {
    expect(seedText(17454220438242315174n)).toBe('17454220438242315174');
    expect(seedText(42)).toBe('42');
    expect(seedText(' 18446744073709551615 ')).toBe('18446744073709551615');
    // A double above 2^53 has already lost digits: showing it would show the wrong seed.
    expect(seedText(Number(17454220438242315174n))).toBeUndefined();
    expect(seedText(1.5)).toBeUndefined();
    expect(seedText('12abc')).toBeUndefined();
  });

  it('the provenance seed wins over the input, the input over the result', () => {
    const outputs = indexOutputs([]);
    const options = { media: [], missingFiles: 0, outputs };
    const fromResult = completed('r1', { result: { seed: 9007199254740993n } });
    expect(describeRecord(fromResult, options).seed).toBe('9007199254740993');
    const fromInput = completed('r2', {
      input: { fields: { prompt: 'x', seed: 18446744073709551615n }, files: [] },
      result: { seed: 1 },
    });
    expect(describeRecord(fromInput, options).seed).toBe('18446744073709551615');
    const fromProvenance = completed('r3', {
      input: { fields: { prompt: 'x', seed: 5 }, files: [] },
      provenance: { seed: '17454220438242315174' },
    });
    expect(describeRecord(fromProvenance, options).seed).toBe('17454220438242315174');
  });
});

describe('cost', () => {
  it('is the cost the lifecycle recorded, and absent when it recorded none', () => {
    expect(
      readCost(completed('a', { provenance: { cost: { amount: 0.15, currency: 'USD' } } })),
    ).toEqual({ amount: 0.15, currency: 'USD' });
    expect(readCost(completed('b', { provenance: { seed: '1' } }))).toBeUndefined();
    expect(readCost(completed('c'))).toBeUndefined();
  });
});

describe('lineage', () => {
  const parent = completed('parent-1', {
    outputs: [
      { url: 'https://v3.fal.media/files/a.png', path: '/tmp/out/parent-1-0.png' },
      { url: 'https://v3.fal.media/files/b.png', path: '/tmp/out/parent-1-1.png' },
    ],
  });
  const notDownloaded = completed('parent-2', {
    result: { images: [{ url: 'https://v3.fal.media/files/c.png' }] },
  });

  it('links an input URL, an uploaded copy and a local path to the output they were', () => {
    const child = completed('child-1', {
      input: {
        fields: { prompt: 'watercolor', image_url: '<file image_url>' },
        files: [
          { field: 'image_url', kind: 'url', location: 'https://v3.fal.media/files/b.png' },
          {
            field: 'image_urls.0',
            kind: 'path',
            location: '/tmp/out/../out/parent-1-0.png',
            uploadedUrl: 'https://v3.fal.media/files/uploaded.png',
          },
          {
            field: 'image_urls.1',
            kind: 'path',
            location: './mine.png',
            uploadedUrl: 'https://v3.fal.media/files/c.png',
          },
          { field: 'mask_url', kind: 'url', location: 'https://example.com/mask.png' },
          { field: 'ref', kind: 'data-uri', mime: 'image/png', size: 4096 },
        ],
      },
    });
    const inputs = inputsOf(child, indexOutputs([parent, notDownloaded]));
    expect(inputs).toEqual([
      {
        field: 'image_url',
        kind: 'output',
        label: 'https://v3.fal.media/files/b.png',
        parent: 'parent-1',
        parentOutput: 1,
      },
      {
        field: 'image_urls.0',
        kind: 'output',
        label: 'parent-1-0.png',
        parent: 'parent-1',
        parentOutput: 0,
      },
      {
        field: 'image_urls.1',
        kind: 'output',
        label: 'mine.png',
        parent: 'parent-2',
        parentOutput: 0,
      },
      { field: 'mask_url', kind: 'url', label: 'https://example.com/mask.png' },
      { field: 'ref', kind: 'data-uri', label: 'data URI (image/png, 4 KB)' },
    ]);
  });

  it('takes the parents the lifecycle recorded, and URLs inside plain fields', () => {
    const child = completed('child-2', {
      input: {
        fields: { prompt: 'x', extra: { ref: 'https://v3.fal.media/files/a.png' } },
        files: [],
      },
      provenance: { parents: [{ requestId: 'elsewhere-9', output: 2, field: 'image_urls.0' }] },
    });
    const inputs = inputsOf(child, indexOutputs([parent]));
    expect(inputs).toEqual([
      {
        field: 'extra.ref',
        kind: 'output',
        label: 'https://v3.fal.media/files/a.png',
        parent: 'parent-1',
        parentOutput: 0,
      },
      {
        field: 'image_urls.0',
        kind: 'output',
        label: 'elsewhere-9',
        parent: 'elsewhere-9',
        parentOutput: 2,
      },
    ]);
  });

  it('never makes a request its own parent, and fills in children both ways', () => {
    const selfRef = completed('self', {
      outputs: [{ url: 'https://v3.fal.media/files/self.png', path: '/tmp/self.png' }],
      input: {
        fields: { prompt: 'x' },
        files: [
          { field: 'image_url', kind: 'url', location: 'https://v3.fal.media/files/self.png' },
        ],
      },
    });
    const child = completed('child-3', {
      input: {
        fields: { prompt: 'y' },
        files: [{ field: 'image_url', kind: 'url', location: 'https://v3.fal.media/files/a.png' }],
      },
    });
    const outputs = indexOutputs([parent, selfRef, child]);
    const items = linkChildren(
      [parent, selfRef, child].map((record) =>
        describeRecord(record, { media: [], missingFiles: 0, outputs }),
      ),
    );
    const byId = new Map(items.map((item) => [item.id, item]));
    expect(byId.get('self')?.parents).toEqual([]);
    expect(byId.get('child-3')?.parents).toEqual(['parent-1']);
    expect(byId.get('parent-1')?.children).toEqual(['child-3']);
  });

  it('finds output URLs inside a result without walking forever', () => {
    expect(
      resultUrls({
        images: [{ url: 'https://a/1.png' }, { url: 'ftp://no' }],
        video: { url: 'https://a/v.mp4' },
      }),
    ).toEqual(['https://a/1.png', 'https://a/v.mp4']);
    // Core's rule: a URL the result only echoes (a plain string, or a bare {url} elsewhere) is
    // not an output file.
    expect(
      resultUrls({
        images: [{ url: 'https://a/1.png' }],
        echo: 'https://user/given.png',
        reference: { url: 'https://user/ref.png' },
        extra: { url: 'https://a/2.png', content_type: 'image/png' },
      }),
    ).toEqual(['https://a/1.png', 'https://a/2.png']);
    let deep: Record<string, unknown> = { url: 'https://deep/x.png' };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    expect(resultUrls(deep)).toEqual([]);
  });
});

describe('the prompt', () => {
  it("is core's prompt of the record (a speech model's text too), not repeated in settings", () => {
    const speech = completed('speech-1', {
      input: { fields: { text: 'hello there', voice: 'Aria' }, files: [] },
    });
    const item = describeRecord(speech, { media: [], missingFiles: 0, outputs: indexOutputs([]) });
    expect(item.prompt).toBe('hello there');
    expect(item.settings).toEqual([['voice', 'Aria']]);
  });

  it("falls back to the result's prompt when the input has none", () => {
    const record = completed('upscale-1', {
      input: { fields: { scale: 2 }, files: [] },
      result: { prompt: 'a caption fal wrote' },
    });
    const item = describeRecord(record, { media: [], missingFiles: 0, outputs: indexOutputs([]) });
    expect(item.prompt).toBe('a caption fal wrote');
  });
});

describe('text that reaches the page', () => {
  it('escapes HTML', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
    );
  });

  it('embeds JSON that cannot close its script element and parses back exactly', () => {
    const value = { prompt: '</script><script>alert(1)</script><!-- \u2028\u2029 & >' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('quotes rerun ids that a shell would split or expand', () => {
    expect(shellWord('3f1c2a9e-1234-4abc-9def-0123456789ab')).toBe(
      '3f1c2a9e-1234-4abc-9def-0123456789ab',
    );
    expect(shellWord("a b'$(rm -rf ~)")).toBe(`'a b'\\''$(rm -rf ~)'`);
    const record = completed("odd id's");
    const item = describeRecord(record, { media: [], missingFiles: 0, outputs: indexOutputs([]) });
    expect(item.rerun).toBe(`falai rerun 'odd id'\\''s'`);
  });
});
