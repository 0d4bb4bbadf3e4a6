import { ACTIVE_STATUSES, type PendingRecord } from '@falai/core';
import { isValidRequestId } from '@falai/core/internal';
import type {
  CreateTaskOptions,
  TaskStore,
} from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import { FOLLOW_MAX_MS, type McpContext } from './context.js';
import { toCallToolResult } from './result.js';
import { jobOutcome } from './tools.js';

/** Tasks listed per page. */
const TASK_PAGE_SIZE = 50;
/** Bounds of the poll interval suggested to clients (ms). */
const MIN_POLL_MS = 2000;
const MAX_POLL_MS = 30_000;

/**
 * MCP tasks backed by falai's store: a task IS a fal request, its id the request id, its state
 * the store record's. Nothing about a task lives in this process, so a task created before a
 * restart of the server (or of the agent) is found, followed and finished by the next one.
 *
 * - `getTask` maps the record (queued/running → working; completed; failed and expired →
 *   failed; cancelled) and makes sure this process follows an active job, so its outcome is
 *   recorded and its files saved even when it was submitted by an earlier process.
 * - `getTaskResult` is what `generate` returns for the finished job (files, inline images, or
 *   the failure as a tool error), built from the record each time.
 * - `updateTaskStatus(…, 'cancelled')` asks fal to cancel (tasks/cancel).
 * - Tasks are not bound to an MCP session: jobs belong to the store, which every session of
 *   this user shares (the point of durable jobs).
 */
export class FalaiTaskStore implements TaskStore {
  readonly #ctx: McpContext;

  constructor(ctx: McpContext) {
    this.#ctx = ctx;
  }

  /** Only for `generate`: the request it submitted comes in `context.requestId`. */
  async createTask(
    params: CreateTaskOptions,
    _requestId: RequestId,
    _request: Request,
  ): Promise<Task> {
    const id = params.context?.requestId;
    if (typeof id !== 'string')
      throw new Error('A falai task is created from a submitted request.');
    const task = await this.getTask(id);
    if (!task) throw new Error(`Request ${id} is not in falai's store.`);
    return task;
  }

  async getTask(taskId: string): Promise<Task | null> {
    const record = await this.#record(taskId);
    if (!record) return null;
    if (ACTIVE_STATUSES.includes(record.status)) {
      void this.#ctx.follow(await this.#ctx.falai.job(record.requestId));
    }
    return this.#taskOf(record);
  }

  /** The result is the record's; there is nothing to store. */
  async storeTaskResult(): Promise<void> {}

  async getTaskResult(taskId: string): Promise<Result> {
    const record = await this.#record(taskId);
    if (!record) throw new Error(`Task ${taskId} is not in falai's store.`);
    const job = await this.#ctx.falai.job(record.requestId);
    // tasks/result may block: the files are saved before it answers.
    const outcome = await jobOutcome(this.#ctx, job, undefined, {
      inline: true,
      saveWithinMs: FOLLOW_MAX_MS,
    });
    return toCallToolResult(outcome, this.#ctx.redactor);
  }

  async updateTaskStatus(taskId: string, status: Task['status']): Promise<void> {
    if (status !== 'cancelled') return;
    const record = await this.#record(taskId);
    if (!record) return;
    await (await this.#ctx.falai.job(record.requestId)).cancel();
  }

  async listTasks(cursor?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const offset = cursor === undefined ? 0 : Number.parseInt(cursor, 10);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error('Invalid cursor.');
    const records = await this.#ctx.falai.withStore((store) => store.list());
    const newest = [...records].sort((a, b) => b.submittedAt.localeCompare(a.submittedAt));
    const page = newest.slice(offset, offset + TASK_PAGE_SIZE);
    const tasks = await Promise.all(page.map((record) => this.#taskOf(record)));
    const next = offset + TASK_PAGE_SIZE;
    return next < newest.length ? { tasks, nextCursor: String(next) } : { tasks };
  }

  /** The exact record of a task id (ids from clients are checked like any request id). */
  async #record(taskId: string): Promise<PendingRecord | undefined> {
    if (!isValidRequestId(taskId)) return undefined;
    return this.#ctx.falai.withStore((store) => store.get(taskId));
  }

  /** The task of a record, redacted like every result (its status message is fal's text). */
  async #taskOf(record: PendingRecord): Promise<Task> {
    return this.#ctx.redactor.redactValue(await this.#taskOfRecord(record));
  }

  async #taskOfRecord(record: PendingRecord): Promise<Task> {
    const duration = await this.#ctx.durationOf(record.endpointId);
    const pollInterval =
      duration === undefined
        ? 5000
        : Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, Math.round((duration * 1000) / 4)));
    const base = {
      taskId: record.requestId,
      ttl: null,
      createdAt: record.submittedAt,
      lastUpdatedAt: record.updatedAt,
      pollInterval,
    };
    switch (record.status) {
      case 'queued':
        return {
          ...base,
          status: 'working',
          statusMessage:
            record.queuePosition === undefined
              ? 'queued at fal'
              : `queued at fal (position ${record.queuePosition})`,
        };
      case 'running':
        return {
          ...base,
          status: 'working',
          statusMessage: record.tags?.cancelRequestedAt
            ? 'running at fal; a cancel was asked for, fal may still finish it'
            : 'running at fal',
        };
      case 'completed':
        return { ...base, status: 'completed' };
      case 'cancelled':
        return {
          ...base,
          status: 'cancelled',
          statusMessage: record.error?.message ?? 'cancelled',
        };
      default:
        return {
          ...base,
          status: 'failed',
          statusMessage: record.error?.message ?? `the request ${record.status}`,
        };
    }
  }
}
