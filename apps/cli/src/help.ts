import { type Command, Help } from '@oclif/core';

/**
 * Root help with one example per command after the command list, so `falai --help` alone
 * shows how every command is used (each command's own help has the full list).
 */
export default class FalaiHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    const lines: string[] = [];
    for (const command of this.sortedCommands) {
      if (command.hidden) continue;
      const example = firstExample(command);
      if (!example) continue;
      const id = command.id.replaceAll(':', ' ');
      lines.push(
        `  $ ${example.replaceAll('<%= config.bin %>', this.config.bin).replaceAll('<%= command.id %>', id)}`,
      );
    }
    if (lines.length > 0) this.log(`EXAMPLES\n${lines.join('\n')}\n`);
  }
}

function firstExample(command: Command.Loadable): string | undefined {
  const examples = command.examples;
  if (!examples || examples.length === 0) return undefined;
  const first = examples[0];
  const text = typeof first === 'string' ? first : first?.command;
  return text?.replace(/^\$\s+/, '');
}
