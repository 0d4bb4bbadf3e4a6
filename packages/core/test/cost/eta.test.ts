import { describe, expect, it } from 'vitest';
import {
  assessQueue,
  formatDuration,
  ProgressTracker,
  progressEstimate,
  type QueueSample,
} from '../../src/lifecycle/eta.js';

/**
 * Honest ETAs (pure): the queue position's history read as moving, congested or likely
 * stalled, and the ETA from it plus what fal expects of the model.
 */
const MIN = 60_000;
const samples = (...pairs: [number, number][]): QueueSample[] =>
  pairs.map(([atMs, position]) => ({ atMs, position }));

describe('assessQueue', () => {
  it('knows nothing from no history, or too little of it', () => {
    expect(assessQueue([], 0)).toEqual({ kind: 'unknown' });
    expect(assessQueue(samples([0, 10], [5000, 9]), 5000)).toEqual({ kind: 'unknown' });
  });

  it('a position that moves is moving, with a rate and the time to the front', () => {
    const trend = assessQueue(samples([0, 20], [30_000, 15], [60_000, 10]), 60_000);
    expect(trend).toEqual({ kind: 'moving', perMinute: 10, etaMs: MIN });
  });

  it('a far front at the current rate is congestion, not a stall', () => {
    // 3 places in 2 minutes with 100 ahead: about 67 minutes to the front.
    const trend = assessQueue(samples([0, 103], [MIN, 102], [2 * MIN, 100]), 2 * MIN);
    expect(trend.kind).toBe('congested');
    expect(trend).toMatchObject({ perMinute: 1.5 });
  });

  it('a position going up (requests put ahead) is congestion', () => {
    const trend = assessQueue(samples([0, 8], [MIN, 12], [2 * MIN, 15]), 2 * MIN);
    expect(trend).toEqual({ kind: 'congested', perMinute: -3.5 });
  });

  it('no movement for the stall time is likely stalled; at the front it never is', () => {
    const still = samples([0, 7], [MIN, 7], [3 * MIN, 7]);
    expect(assessQueue(still, 4 * MIN)).toEqual({ kind: 'unknown' });
    expect(assessQueue(still, 6 * MIN)).toEqual({ kind: 'stalled', forMs: 6 * MIN });
    // Movement resets the clock: stalled only counts since the last change.
    const moved = samples([0, 9], [2 * MIN, 8], [6 * MIN, 8]);
    expect(assessQueue(moved, 6 * MIN).kind).not.toBe('stalled');
    expect(assessQueue(samples([0, 0], [10 * MIN, 0]), 10 * MIN).kind).not.toBe('stalled');
  });

  it('orders samples by time and ignores ones that are not numbers', () => {
    const trend = assessQueue(
      [
        { atMs: 60_000, position: 10 },
        { atMs: Number.NaN, position: 3 },
        { atMs: 0, position: 20 },
      ],
      60_000,
    );
    expect(trend).toEqual({ kind: 'moving', perMinute: 10, etaMs: MIN });
  });
});

describe('progressEstimate', () => {
  const expectation = { runP50S: 30, runP90S: 60, queueP50S: 5, durationEstimateS: 40 };

  it('queued and moving: time to the front plus the usual run time', () => {
    const estimate = progressEstimate(
      { state: 'queued', queuePosition: 10, waitedMs: MIN },
      { kind: 'moving', perMinute: 10, etaMs: MIN },
      expectation,
    );
    expect(estimate).toEqual({ etaMs: 90_000, trend: 'moving', text: 'ETA ~1m 30s' });
  });

  it('at the front: fal’s usual queue time plus run time; the duration estimate without analytics', () => {
    expect(
      progressEstimate(
        { state: 'queued', queuePosition: 0, waitedMs: 0 },
        { kind: 'unknown' },
        expectation,
      ).etaMs,
    ).toBe(35_000);
    expect(
      progressEstimate(
        { state: 'queued', queuePosition: 0, waitedMs: 0 },
        { kind: 'unknown' },
        { durationEstimateS: 40, queueP50S: 2 },
      ).text,
    ).toBe('ETA ~42s');
  });

  it('says congested and likely stalled in words', () => {
    const congested = progressEstimate(
      { state: 'queued', queuePosition: 120, waitedMs: 5 * MIN },
      { kind: 'congested', perMinute: -2 },
      expectation,
    );
    expect(congested.text).toBe(
      "fal's queue for this model is congested (position 120, requests are being put ahead of it)",
    );
    const stalled = progressEstimate(
      { state: 'queued', queuePosition: 3, waitedMs: 9 * MIN },
      { kind: 'stalled', forMs: 7 * MIN },
      expectation,
    );
    expect(stalled.trend).toBe('stalled');
    expect(stalled.text).toMatch(/^likely stalled: queue position 3 unchanged for 7m/);
  });

  it('running: what is left of the usual run time, then "taking longer than usual"', () => {
    expect(
      progressEstimate(
        { state: 'running', runningForMs: 10_000, waitedMs: 20_000 },
        { kind: 'unknown' },
        expectation,
      ),
    ).toEqual({ etaMs: 20_000, trend: 'unknown', text: 'ETA ~20s' });
    expect(
      progressEstimate(
        { state: 'running', runningForMs: 90_000, waitedMs: 99_000 },
        { kind: 'unknown' },
        expectation,
      ).text,
    ).toBe('taking longer than usual (usually 30s, 9 in 10 within 1m)');
  });

  it('says nothing it does not know', () => {
    expect(
      progressEstimate(
        { state: 'running', runningForMs: 1000, waitedMs: 1000 },
        { kind: 'unknown' },
      ).text,
    ).toBe('');
    expect(
      progressEstimate(
        { state: 'queued', queuePosition: 4, waitedMs: 1000 },
        { kind: 'unknown' },
        { runP50S: 8 },
      ).text,
    ).toBe('runs ~8s once it starts');
  });
});

describe('ProgressTracker', () => {
  it('follows a wait and sees a stall without a new event', () => {
    let now = 0;
    const tracker = new ProgressTracker({ runP50S: 20 }, () => now);
    tracker.update({ state: 'queued', queuePosition: 5 });
    now = MIN;
    tracker.update({ state: 'queued', queuePosition: 5 });
    expect(tracker.estimate().trend).not.toBe('stalled');
    now = 6 * MIN;
    expect(tracker.estimate()).toMatchObject({ trend: 'stalled' });
    now += 1000;
    tracker.update({ state: 'running' });
    now += 5000;
    expect(tracker.estimate()).toEqual({ etaMs: 15_000, trend: 'unknown', text: 'ETA ~15s' });
  });

  it('takes what fal expects after the wait began', () => {
    let now = 0;
    const tracker = new ProgressTracker({}, () => now);
    tracker.update({ state: 'running' });
    expect(tracker.estimate().text).toBe('');
    tracker.expect({ durationEstimateS: 12 });
    now = 2000;
    expect(tracker.estimate().text).toBe('ETA ~10s');
  });
});

it('formats durations', () => {
  expect([500, 40_000, 200_000, 3_900_000, 7_200_000].map(formatDuration)).toEqual([
    '1s',
    '40s',
    '3m 20s',
    '1h 5m',
    '2h',
  ]);
});
