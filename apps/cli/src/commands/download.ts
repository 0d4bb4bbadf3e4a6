import type { DownloadOutput, OutputFile } from '@falai/core';
import { InputError } from '@falai/core';
import { fetchResult, findRecord, saveOutputs } from '@falai/core/internal';
import { BaseCommand } from '../base-command.js';
import { forceFlag, outFlag, requestIdArg } from '../flags.js';
import { nameFlag, outputTarget } from '../output-names.js';

/** Saves a finished request's output files. */
export default class Download extends BaseCommand<typeof Download> {
  static override summary = "Save a finished request's output files.";
  static override description =
    'Saves every output file (images, video) of a completed request as <out>/<request-id>-<index>.<ext> (or as --out cat.png, or named by --name) and records the paths in the store. Running it again is safe: files it already saved are left as they are ("already downloaded"). Other existing files are never replaced without --force. The result is fetched from fal if the store does not have it yet. The request id may be a unique prefix.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> 00000000-0000-4000-8000-000000000001',
    '<%= config.bin %> <%= command.id %> 00000000 --out ./renders --force',
    '<%= config.bin %> <%= command.id %> 00000000 --out cat.png',
    '<%= config.bin %> <%= command.id %> 00000000 --out ./renders --name "{endpoint}-{date}-{n}"',
  ];
  static override args = { 'request-id': requestIdArg() };
  static override flags = { out: outFlag(), name: nameFlag(), force: forceFlag() };

  async run(): Promise<DownloadOutput> {
    const store = await this.store();
    const given = this.args['request-id'];
    const record = await findRecord(store, given, 'download');
    if (!record) {
      throw new InputError(
        `Request ${given} is not in the store (${store.location}); fetch it with falai result <endpoint> ${given} first.`,
        [{ path: ['request-id'], message: 'unknown request id', kind: 'reference' }],
      );
    }
    const { requestId } = record;
    const target = outputTarget({
      out: this.flags.out,
      name: this.flags.name,
      defaultDir: (await this.settings()).outputDir,
      requestId,
      endpointId: record.endpointId,
    });
    // The stored result serves unless it kept an inline output only as a digest: then fal's.
    const fetched = await fetchResult({
      client: await this.client(),
      store,
      endpointId: record.endpointId,
      requestId,
      record,
      need: 'files',
      waitCommand: `falai wait ${requestId} --download`,
    });
    const kept: OutputFile[] = [];
    const outputs = await saveOutputs({
      store,
      requestId,
      result: fetched.output,
      ...target,
      force: this.flags.force,
      settings: await this.settings(),
      ...(record.outputs ? { previous: record.outputs } : {}),
      onKept: (file) => kept.push(file),
    });
    if (outputs.length === 0) this.log(`${requestId} has no output files.`);
    for (const file of outputs) this.log(file.path);
    if (kept.length > 0) {
      this.note(
        kept.length === outputs.length
          ? `Already downloaded; nothing to do (--force downloads ${kept.length === 1 ? 'it' : 'them'} again).`
          : `${kept.length} of ${outputs.length} files were already downloaded and left as they were.`,
      );
    }
    return {
      requestId,
      outputs,
      ...(kept.length > 0 ? { alreadyDownloaded: kept.map((file) => file.path) } : {}),
    };
  }
}
