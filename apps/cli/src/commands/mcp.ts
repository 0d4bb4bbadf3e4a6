import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { McpClientConfig } from '@falai/mcp';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { parseDuration } from '../flags.js';

/** What `falai mcp --json` prints: the HTTP server's address, or a client's config snippet. */
export type McpOutput =
  | {
      readonly url: string;
      readonly port: number;
      readonly outputDir: string;
      readonly store: string;
    }
  | McpClientConfig;

/** The clients `--print-config` knows (kept in step with @falai/mcp's MCP_CLIENTS by a test). */
const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf'];

/** `falai mcp`: falai as a Model Context Protocol server for agents. */
export default class Mcp extends BaseCommand<typeof Mcp> {
  static override summary = 'Serve falai to AI agents as an MCP (Model Context Protocol) server.';
  static override description =
    `Runs a Model Context Protocol server over stdio (what MCP clients start), or over Streamable HTTP on 127.0.0.1 with --http. Its tools: search_models, get_model_schema, estimate_cost, generate, get_job_status, get_job_result, download_job_outputs, list_jobs, cancel_job.

generate validates the input (an invalid one costs nothing), submits, records the job in falai's store and waits at most --wait (45 s) for the result, well under the ~60 s after which MCP clients give up on a tool call. A job that takes longer returns its request id, status and ETA, and the agent checks again with get_job_result; jobs live in the configured store (the same as the CLI's), so they survive a restart of the server or of the agent, and falai list/wait see them too. Clients that support MCP tasks can run generate as a task backed by the same store.

Outputs are saved in --output-dir (else FALAI_OUTPUT_DIR or the config file's outputDir; by default ~/falai-output, since a client starts the server in a folder of its choosing); small images are also returned inline. Local files in inputs are read only from the output folder and the --allow-dir folders. The key is found as the CLI finds it and never appears in a result.

--print-config <client> prints the snippet that adds this server to claude-desktop, claude-code, cursor, vscode or windsurf.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --print-config claude-desktop',
    '<%= config.bin %> <%= command.id %> --http --port 8799',
    '<%= config.bin %> <%= command.id %> --output-dir ~/Pictures/falai --allow-dir ~/Pictures/inputs',
  ];
  static override flags = {
    http: Flags.boolean({
      description: 'Serve Streamable HTTP on 127.0.0.1 instead of stdio (until Ctrl-C).',
    }),
    port: Flags.integer({
      char: 'p',
      description: 'Port for --http (0 picks a free one).',
      default: 8799,
      min: 0,
      max: 65_535,
    }),
    host: Flags.string({
      description: 'Interface for --http. Anything but loopback lets other machines use your key.',
      default: '127.0.0.1',
    }),
    'output-dir': Flags.string({
      char: 'o',
      description:
        'Where outputs are saved (default: FALAI_OUTPUT_DIR, the config file, ~/falai-output).',
    }),
    'allow-dir': Flags.string({
      multiple: true,
      description:
        'A folder local input files may be read from (repeatable); the output folder always may.',
    }),
    wait: Flags.custom<number>({
      description:
        'How long generate waits for a result before returning the request id (e.g. 45s).',
      parse: async (input) => parseDuration(input),
    })({ default: 45_000, defaultHelp: async () => '45s' }),
    'max-wait': Flags.custom<number>({
      description: 'The longest wait an agent may ask for in one call (e.g. 55s).',
      parse: async (input) => parseDuration(input),
    })({ default: 55_000, defaultHelp: async () => '55s' }),
    tasks: Flags.boolean({
      description: 'Offer generate as an MCP task to clients that support tasks.',
      default: true,
      allowNo: true,
    }),
    'print-config': Flags.string({
      description: 'Print the configuration snippet for an MCP client and exit.',
      options: CLIENTS,
    }),
  };

  async run(): Promise<McpOutput | undefined> {
    const mcpModule = await import('@falai/mcp');
    const flags = this.flags;
    const client = flags['print-config'];
    if (client) return this.printConfig(mcpModule, client);

    const settings = await this.settings();
    const outputDir = flags['output-dir']
      ? absolute(flags['output-dir'])
      : settings.sources.outputDir?.kind === 'default'
        ? resolve(homedir(), 'falai-output')
        : absolute(settings.outputDir);
    const [store, registry, catalogue, fal, core] = await Promise.all([
      this.store(),
      this.registry(),
      this.catalogue(),
      this.client(),
      import('@falai/core'),
    ]);
    const credentials = () => this.key();
    const userAgent = `${this.config.name}/${this.config.version}`;
    const cacheDir = this.config.cacheDir;
    const falai = core.createFalai({
      settings,
      store,
      registry,
      client: fal,
      userAgent,
      cacheDir,
    });
    const estimator = core.costEstimatorFor(settings, { cacheDir, credentials, userAgent });
    const mcp = mcpModule.createFalaiMcp({
      falai,
      registry,
      catalogue,
      estimator,
      outputDir,
      inputDirs: [outputDir, ...(flags['allow-dir'] ?? []).map(absolute)],
      waitMs: flags.wait,
      maxWaitMs: Math.max(flags['max-wait'], flags.wait),
      tasks: flags.tasks,
      redactor: this.redactor,
      version: this.config.version,
    });

    let onSignal: () => void = () => undefined;
    const signalled = new Promise<void>((resolveSignal) => {
      onSignal = () => resolveSignal();
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      if (flags.http) {
        const running = await mcpModule.serveHttp(mcp, { port: flags.port, host: flags.host });
        const output = { url: running.url, port: running.port, outputDir, store: store.location };
        if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(output)}\n`);
        else {
          this.log(`falai MCP server listening on ${running.url}`);
          this.note(
            `Outputs go to ${outputDir}; jobs are kept in ${store.location}. Ctrl-C stops it.`,
          );
        }
        await Promise.race([signalled, running.closed]);
        await running.close();
        await mcp.close();
        return undefined;
      }
      // stdio: stdout carries protocol messages only; nothing else is printed there.
      const running = await mcpModule.serveStdio(mcp);
      await Promise.race([signalled, running.closed]);
      await running.close();
      await mcp.close();
      return undefined;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /** The client's snippet, with this command's own flags carried into it. */
  private printConfig(mcpModule: typeof import('@falai/mcp'), client: string): McpClientConfig {
    const flags = this.flags;
    const args = ['mcp'];
    if (flags.store) args.push('--store', flags.store);
    if (flags['output-dir']) args.push('--output-dir', absolute(flags['output-dir']));
    for (const dir of flags['allow-dir'] ?? []) args.push('--allow-dir', absolute(dir));
    const config = mcpModule.mcpClientConfig(client, {
      command: 'falai',
      args,
      ...(flags.http ? { url: `http://127.0.0.1:${flags.port}/mcp` } : {}),
    });
    if (!this.jsonEnabled()) {
      this.log(config.snippet);
      this.note(`Put this in ${config.where}.`);
      if (flags.http) this.note(`Start the server first: falai mcp --http --port ${flags.port}`);
      for (const note of config.notes) this.note(note);
    }
    return config;
  }
}

function absolute(path: string): string {
  const expanded =
    path === '~' || path.startsWith('~/') ? resolve(homedir(), `.${path.slice(1)}`) : path;
  return isAbsolute(expanded) ? expanded : resolve(process.cwd(), expanded);
}
