import type { BinaryInput } from './binary-input.js';
import type { EndpointTypeMap } from './endpoint-types.generated.js';

export type { EndpointTypeMap } from './endpoint-types.generated.js';

/**
 * What a file field of an input takes: an http(s) URL, a data URI or a local path (a string),
 * or bytes in memory (a Buffer, typed array, ArrayBuffer, Blob, Node or web stream). Paths and
 * bytes are sent as data URIs or uploaded to fal storage.
 */
export type FileInput = string | BinaryInput;

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
