import { describe, expect, it } from 'vitest';
import { closestEndpointIds, editDistance, looksLikeTypo } from '../../src/catalogue/suggest.js';

const IDS = [
  'fal-ai/nano-banana-pro',
  'fal-ai/nano-banana-pro/edit',
  'fal-ai/flux/dev',
  'fal-ai/flux/schnell',
  'fal-ai/flux/dev/image-to-image',
  'fal-ai/kling-video/v2.1/master/text-to-video',
  'bria/background/remove',
];

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
  it('stops early past the bound', () => {
    expect(editDistance('abcdefgh', 'zyxwvuts', 2)).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});

describe('closestEndpointIds', () => {
  it('a near miss comes alone, not diluted with far ids', () => {
    expect(closestEndpointIds('fal-ai/nano-banana-pr', IDS)).toEqual(['fal-ai/nano-banana-pro']);
    expect(closestEndpointIds('FAL-AI/Flux/Dev', IDS)[0]).toBe('fal-ai/flux/dev');
  });
  it('ids that extend a shorter one are suggested', () => {
    expect(closestEndpointIds('fal-ai/flux', IDS)).toEqual([
      'fal-ai/flux/dev',
      'fal-ai/flux/dev/image-to-image',
      'fal-ai/flux/schnell',
    ]);
  });
  it('nothing when nothing is close', () => {
    expect(closestEndpointIds('acme/my-private-app', IDS)).toEqual([]);
  });
});

describe('looksLikeTypo', () => {
  it('an owner that publishes in the catalogue, or an id two edits away', () => {
    expect(looksLikeTypo('fal-ai/nope', IDS)).toBe(true);
    expect(looksLikeTypo('bria/other', IDS)).toBe(true);
    expect(looksLikeTypo('fal-a/nano-banana-pro', IDS)).toBe(true);
  });
  it('an unknown owner with nothing close is a private app', () => {
    expect(looksLikeTypo('acme/slow', IDS)).toBe(false);
    expect(looksLikeTypo('me/nano-banana', IDS)).toBe(false);
  });
});
