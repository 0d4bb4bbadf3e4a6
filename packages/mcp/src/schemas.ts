import { REQUEST_STATUSES } from '@falai/core';

/** A JSON Schema object (draft 2020-12), as tools/list sends it. */
export type JsonSchema = Record<string, unknown>;

const str = (description?: string): JsonSchema =>
  description ? { type: 'string', description } : { type: 'string' };

const endpointId: JsonSchema = {
  type: 'string',
  maxLength: 300,
  description: 'A fal endpoint id, e.g. "fal-ai/nano-banana-pro" (find ids with search_models).',
};
const requestId: JsonSchema = {
  type: 'string',
  maxLength: 200,
  description:
    'The request id generate returned (a unique prefix of at least 4 characters of a stored one works too).',
};
const optionalEndpoint: JsonSchema = {
  ...endpointId,
  description:
    "The job's endpoint id; needed only for a request that is not in falai's store (submitted elsewhere).",
};

/** One saved output file. */
const fileSchema: JsonSchema = {
  type: 'object',
  properties: {
    path: str('Absolute path of the saved file.'),
    url: str("fal's URL of the output."),
    mime: str(),
    size: { type: 'integer', minimum: 0 },
  },
  required: ['path', 'url'],
};

/** A job, as generate, get_job_status and get_job_result return it. */
export const jobViewSchema: JsonSchema = {
  type: 'object',
  properties: {
    requestId: str('The job id: keep it to check on the job later.'),
    endpointId: str(),
    status: { type: 'string', enum: [...REQUEST_STATUSES] },
    done: { type: 'boolean', description: 'True once the job will not change any more.' },
    queuePosition: { type: 'integer', minimum: 0 },
    submittedAt: str(),
    startedAt: str(),
    completedAt: str(),
    eta: {
      type: 'object',
      description: 'When the job should be done (a guess; basis says from what).',
      properties: {
        seconds: { type: 'number', minimum: 0 },
        at: str(),
        basis: str(),
      },
      required: ['seconds', 'at', 'basis'],
    },
    files: { type: 'array', items: fileSchema },
    output: { description: "The model's output as recorded (64-bit integers as strings)." },
    error: {
      type: 'object',
      properties: { code: str(), message: str() },
      required: ['code', 'message'],
    },
    estimatedCostUsd: { type: 'number', minimum: 0, description: 'Estimated before the submit.' },
    cost: {
      type: 'object',
      description: 'What it cost, once known.',
      properties: { amount: { type: 'number', minimum: 0 }, currency: str() },
      required: ['amount', 'currency'],
    },
    cancelRequestedAt: str(),
    next: str('What to do next.'),
    notes: { type: 'array', items: { type: 'string' } },
  },
  required: ['requestId', 'endpointId', 'status', 'done'],
};

/** Input and output schemas of every tool. */
export const TOOL_SCHEMAS = {
  search_models: {
    input: {
      type: 'object',
      properties: {
        query: {
          type: 'string',
          maxLength: 200,
          description: 'Words to find in the id, name, description or tags, e.g. "video kling".',
        },
        category: {
          type: 'string',
          maxLength: 100,
          description: 'e.g. text-to-image, image-to-image, text-to-video, image-to-video.',
        },
        limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        models: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              endpointId: str(),
              name: str(),
              category: str(),
              description: str(),
              status: str(),
              durationSeconds: { type: 'number', description: "fal's typical run time." },
              price: {
                type: 'object',
                properties: {
                  unitPrice: { type: 'number' },
                  unit: str(),
                  currency: str(),
                },
                required: ['unitPrice', 'unit', 'currency'],
              },
            },
            required: ['endpointId', 'name', 'category', 'description', 'status'],
          },
        },
        hasMore: { type: 'boolean' },
        source: { type: 'string', enum: ['catalogue', 'cache'] },
        notes: { type: 'array', items: { type: 'string' } },
      },
      required: ['models', 'hasMore', 'source', 'notes'],
    },
  },
  get_model_schema: {
    input: {
      type: 'object',
      properties: { endpoint_id: endpointId },
      required: ['endpoint_id'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        endpointId: str(),
        name: str(),
        category: str(),
        description: str(),
        source: {
          type: 'string',
          enum: ['builtin', 'user', 'catalogue', 'cache'],
          description: 'Where the definition came from.',
        },
        inputSchema: { type: 'object', description: 'JSON Schema of the input.' },
        required: { type: 'array', items: { type: 'string' } },
        fileFields: {
          type: 'array',
          items: { type: 'string' },
          description: 'Fields that take a file: an https:// URL, a data URI or a local path.',
        },
        example: { type: 'object', description: 'An example input.' },
        deprecated: { type: 'boolean' },
        warnings: { type: 'array', items: { type: 'string' } },
      },
      required: [
        'endpointId',
        'name',
        'category',
        'description',
        'source',
        'inputSchema',
        'required',
        'fileFields',
      ],
    },
  },
  estimate_cost: {
    input: {
      type: 'object',
      properties: {
        endpoint_id: endpointId,
        input: {
          type: 'object',
          description:
            'The input you mean to generate with (it is also checked against the model).',
        },
      },
      required: ['endpoint_id'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        endpointId: str(),
        currency: str(),
        estimate: { type: 'number', minimum: 0, description: 'Estimated cost in US dollars.' },
        basis: str(
          'How it was computed, e.g. "2 images × $0.15/image"; "none" without an estimate.',
        ),
        method: {
          type: 'string',
          enum: ['input', 'history'],
          description: "input: measured from the input; history: fal's average cost per call.",
        },
        units: { type: 'number', minimum: 0 },
        unitPrice: {
          type: 'object',
          properties: { unitPrice: { type: 'number' }, unit: str(), currency: str() },
          required: ['unitPrice', 'unit', 'currency'],
        },
        assumptions: { type: 'array', items: { type: 'string' } },
        reason: str('Why there is no estimate.'),
        inputValid: { type: 'boolean' },
        issues: { type: 'array', items: { type: 'string' } },
        notes: { type: 'array', items: { type: 'string' } },
      },
      required: ['endpointId', 'basis', 'notes'],
    },
  },
  generate: {
    input: {
      type: 'object',
      properties: {
        endpoint_id: endpointId,
        input: {
          type: 'object',
          description:
            "The model's input (see get_model_schema). File fields take https:// URLs, data URIs, or local paths inside the server's allowed folders.",
        },
        wait_seconds: {
          type: 'number',
          minimum: 0,
          description:
            'How long to wait for the result before returning the request id (default and maximum set by the server, typically 45 and 55). 0 returns at once.',
        },
        dir: {
          type: 'string',
          maxLength: 500,
          description: 'A folder inside the output folder for the files (relative).',
        },
        max_cost_usd: {
          type: 'number',
          minimum: 0,
          description:
            'Refuse (nothing is submitted) when the estimated cost is above this many US dollars, or cannot be estimated.',
        },
      },
      required: ['endpoint_id', 'input'],
      additionalProperties: false,
    },
    output: jobViewSchema,
  },
  get_job_status: {
    input: {
      type: 'object',
      properties: { request_id: requestId, endpoint_id: optionalEndpoint },
      required: ['request_id'],
      additionalProperties: false,
    },
    output: jobViewSchema,
  },
  get_job_result: {
    input: {
      type: 'object',
      properties: {
        request_id: requestId,
        endpoint_id: optionalEndpoint,
        wait_seconds: {
          type: 'number',
          minimum: 0,
          description:
            'Wait up to this long for a job still running (bounded by the server, typically 55). Default 0: answer at once.',
        },
        inline_images: {
          type: 'boolean',
          default: true,
          description: 'Include small previews of image outputs as image content.',
        },
      },
      required: ['request_id'],
      additionalProperties: false,
    },
    output: jobViewSchema,
  },
  download_job_outputs: {
    input: {
      type: 'object',
      properties: {
        request_id: requestId,
        endpoint_id: optionalEndpoint,
        dir: {
          type: 'string',
          maxLength: 500,
          description: 'A folder inside the output folder (relative). Default: the output folder.',
        },
        force: { type: 'boolean', default: false, description: 'Replace existing files.' },
      },
      required: ['request_id'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        requestId: str(),
        endpointId: str(),
        files: { type: 'array', items: fileSchema },
      },
      required: ['requestId', 'endpointId', 'files'],
    },
  },
  list_jobs: {
    input: {
      type: 'object',
      properties: {
        status: {
          type: 'string',
          enum: ['pending', 'done', 'all'],
          default: 'all',
          description: 'pending: queued or running; done: finished one way or another.',
        },
        endpoint_id: endpointId,
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      },
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        jobs: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              requestId: str(),
              endpointId: str(),
              status: { type: 'string', enum: [...REQUEST_STATUSES] },
              submittedAt: str(),
              completedAt: str(),
              queuePosition: { type: 'integer', minimum: 0 },
              prompt: str('The prompt, shortened.'),
              files: { type: 'array', items: { type: 'string' } },
              error: str(),
            },
            required: ['requestId', 'endpointId', 'status', 'submittedAt'],
          },
        },
        pending: { type: 'integer', minimum: 0, description: 'Jobs still queued or running.' },
        total: { type: 'integer', minimum: 0, description: 'Jobs that matched the filter.' },
        store: str('Where the jobs are kept.'),
      },
      required: ['jobs', 'pending', 'total', 'store'],
    },
  },
  cancel_job: {
    input: {
      type: 'object',
      properties: { request_id: requestId, endpoint_id: optionalEndpoint },
      required: ['request_id'],
      additionalProperties: false,
    },
    output: {
      type: 'object',
      properties: {
        requestId: str(),
        endpointId: str(),
        outcome: {
          type: 'string',
          description:
            "fal's answer: ok (removed from the queue), cancellation-requested (running: the app may still finish and bill it), already-completed.",
        },
        status: { type: 'string', enum: [...REQUEST_STATUSES] },
        cancelRequestedAt: str(),
        note: str(),
      },
      required: ['requestId', 'endpointId', 'outcome', 'note'],
    },
  },
} as const satisfies Record<string, { input: JsonSchema; output: JsonSchema }>;
