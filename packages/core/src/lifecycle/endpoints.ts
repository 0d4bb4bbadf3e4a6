import type { EndpointTypeMap } from './endpoint-types.generated.js';

export type { EndpointTypeMap } from './endpoint-types.generated.js';

/** The endpoint ids of the built-in models (autocompleted; any other id is accepted too). */
export type KnownEndpointId = keyof EndpointTypeMap;

/** An endpoint id as the typed API takes it: a built-in one, or any other string. */
export type AnyEndpointId = KnownEndpointId | (string & {});

/** The input an endpoint takes: typed for built-in endpoints, a plain object for others. */
export type EndpointInput<E extends string> = E extends KnownEndpointId
  ? EndpointTypeMap[E]['input']
  : Record<string, unknown>;

/** The output an endpoint returns: typed for built-in endpoints, a plain object for others. */
export type EndpointOutput<E extends string> = E extends KnownEndpointId
  ? EndpointTypeMap[E]['output']
  : Record<string, unknown>;
