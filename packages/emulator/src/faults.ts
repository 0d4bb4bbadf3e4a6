import type { Prng } from './prng.js';
import type { FaultAction, FaultRule, RequestKind } from './types.js';

interface ActiveRule {
  rule: FaultRule;
  used: number;
}

/** What a request looks like to fault matching. */
export interface FaultTarget {
  kind: RequestKind;
  method: string;
  path: string;
  endpointId?: string | undefined;
}

/** Request kinds a `stall` applies to: downloads and upload bodies. */
const STALLABLE: RequestKind[] = ['file', 'upload-put', 'upload-part'];

/** A concrete action once `one-of` has been resolved. */
export type ResolvedFault = Exclude<FaultAction, { type: 'one-of' }>;

/**
 * Scripted failures. Rules are checked in insertion order; the first that matches, still has
 * uses left and wins its probability draw (seeded PRNG) decides the response.
 */
export class FaultInjector {
  private rules: ActiveRule[] = [];

  constructor(private readonly prng: Prng) {}

  add(rule: FaultRule): () => void {
    const active = { rule, used: 0 };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((item) => item !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  private matches(rule: FaultRule, target: FaultTarget): boolean {
    const match = rule.match;
    if (!match) return true;
    if (match.kind !== undefined) {
      const kinds = Array.isArray(match.kind) ? match.kind : [match.kind];
      if (!kinds.includes(target.kind)) return false;
    }
    if (match.method && match.method.toUpperCase() !== target.method) return false;
    if (match.path !== undefined) {
      const ok =
        typeof match.path === 'string' ? target.path === match.path : match.path.test(target.path);
      if (!ok) return false;
    }
    if (match.endpointId !== undefined && match.endpointId !== target.endpointId) return false;
    return true;
  }

  /** Picks the fault for a request, consuming one use of its rule. */
  pick(target: FaultTarget): ResolvedFault | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.times !== undefined && active.used >= rule.times) continue;
      if (!this.matches(rule, target)) continue;
      if (rule.probability !== undefined && this.prng.next() >= rule.probability) continue;
      let action = rule.action;
      while (action.type === 'one-of') {
        if (action.actions.length === 0) return undefined;
        action = action.actions[this.prng.int(0, action.actions.length - 1)] as FaultAction;
      }
      if (action.type === 'drop-after-accept' && target.kind !== 'submit') continue;
      if (action.type === 'stall' && !STALLABLE.includes(target.kind)) continue;
      active.used += 1;
      return action;
    }
    return undefined;
  }
}
