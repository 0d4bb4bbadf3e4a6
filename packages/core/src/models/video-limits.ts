import type { VideoLimits } from './definition.js';
import type { ModelRegistry } from './registry.js';

/** The video limits of a model, if it has any (for `video-to-uri --model`). */
export function videoLimitsFor(
  registry: ModelRegistry,
  endpointId: string,
): VideoLimits | undefined {
  return registry.get(endpointId)?.limits?.video;
}
