/**
 * Most US dollars falai trusts as the cost of one request: an estimate, or the `cost_total` of
 * one of fal's billing events. More means a bad price, a bad reading or a hostile answer.
 */
export const MAX_REQUEST_USD = 1_000_000;
