import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckKeyOutputSchema,
  ConfigGetOutputSchema,
  ConfigListOutputSchema,
  ConfigSetOutputSchema,
  DataUriOutputSchema,
  ErrorOutputSchema,
  ModelInfoOutputSchema,
  ModelsOutputSchema,
} from '@falai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/exit-codes.js';
import { CLI_DIR, createTestEnv, FAL_KEY, SECRET, type TestEnv } from './helpers.js';

/** A real 2×2 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

const CORE_FIXTURES = join(CLI_DIR, '..', '..', 'packages', 'core', 'test', 'fixtures', 'media');

/**
 * Every command the CLI ships, from the oclif manifest the build writes (so a new command is
 * checked without editing this file), as typed on the command line: `webhook serve`.
 */
async function shippedCommands(): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(CLI_DIR, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { hidden?: boolean }>;
  };
  return Object.entries(manifest.commands)
    .filter(([, command]) => !command.hidden)
    .map(([id]) => id.replaceAll(':', ' '))
    .sort();
}

/** The rows of one section (`COMMANDS`, `TOPICS`) of oclif help: the names before the summary. */
function sectionNames(help: string, section: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(section);
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const row = /^ {2}(\S+(?: \S+)*?)(?: {2,}|$)/.exec(line);
    if (row) names.push(row[1]!);
  }
  return names;
}

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv({ emulator: false });
});
afterAll(async () => {
  await env.close();
});

describe('help and version', () => {
  it('falai --help lists every shipped command in COMMANDS, or its topic in TOPICS', async () => {
    const commands = await shippedCommands();
    for (const expected of ['webhook serve', 'skill build', 'skill install', 'skill schedule']) {
      expect(commands).toContain(expected);
    }
    expect(commands).toContain('models import');
    const root = await env.run(['--help']);
    expect(root.code).toBe(0);
    const listed = sectionNames(root.stdout, 'COMMANDS');
    const topics = sectionNames(root.stdout, 'TOPICS');
    const topicHelp = new Map<string, string[]>();
    for (const command of commands) {
      const [topic, ...rest] = command.split(' ');
      if (rest.length === 0) {
        expect(listed, `${command} in COMMANDS of falai --help`).toContain(command);
        continue;
      }
      expect(topics, `${topic} in TOPICS of falai --help`).toContain(topic);
      if (!topicHelp.has(topic!)) {
        const help = await env.run([topic!, '--help']);
        expect(help.code, `falai ${topic} --help`).toBe(0);
        topicHelp.set(topic!, sectionNames(help.stdout, 'COMMANDS'));
      }
      expect(topicHelp.get(topic!), `${command} in COMMANDS of falai ${topic} --help`).toContain(
        command,
      );
    }
  });

  it('every command has an EXAMPLES section in its own help', async () => {
    for (const command of await shippedCommands()) {
      const result = await env.run([...command.split(' '), '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(new RegExp(`\\nEXAMPLES\\n\\s+\\$ falai ${command}`));
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(CLI_DIR, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await env.run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`falai/${pkg.version}`);
  });

  it('--version and -v (answered without oclif) print exactly what oclif shows as VERSION', async () => {
    const help = await env.run(['--help']);
    const oclifVersion = /VERSION\n\s+(.+)\n/.exec(help.stdout)?.[1];
    expect(oclifVersion).toMatch(/^falai\/\S+ \S+-\S+ node-v\d+/);
    for (const flag of ['--version', '-v']) {
      const result = await env.run([flag]);
      expect(result.code, flag).toBe(0);
      expect(result.stdout, flag).toBe(`${oclifVersion}\n`);
    }
  });
});

describe('usage errors', () => {
  it('an unknown flag exits 2 with one line on stderr', async () => {
    const result = await env.run(['list', '--bogus']);
    expect(result.code).toBe(EXIT_CODES.USAGE);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^Error: .*--bogus/);
  });

  it('a missing argument under --json prints the error JSON', async () => {
    const result = await env.run(['forget', '--json']);
    expect(result.code).toBe(2);
    const output = result.json(ErrorOutputSchema);
    expect(output.error.code).toBe('USAGE');
    expect(output.error.message).toMatch(/request-id/i);
  });
});

describe('unknown commands', () => {
  it('suggests the closest command and exits 127', async () => {
    const result = await env.run(['lsit']);
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('Did you mean list?');
    expect(result.stderr).toContain('lsit is not a falai command');
  });
});

describe('check-key', () => {
  it('reports the key masked and where it came from', async () => {
    const human = await env.run(['check-key']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/OK: Key found \(test-id…?.*\) from env FAL_KEY/);
    const result = await env.run(['check-key', '--json']);
    const output = result.json(CheckKeyOutputSchema);
    expect(output.source).toBe('env FAL_KEY');
    expect(FAL_KEY.startsWith(output.masked.replace('…', ''))).toBe(true);
    expect(JSON.stringify(output)).not.toContain(SECRET);
  });

  it('no key anywhere exits 3 and lists the sources tried', async () => {
    const result = await env.run(['check-key'], { env: { FAL_KEY: undefined } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/No FAL_KEY found/);
    expect(result.stderr).toContain('env FAL_KEY');
    expect(result.stderr).toContain('TOOLS.md');
    const json = await env.run(['check-key', '--json'], { env: { FAL_KEY: undefined } });
    expect(json.code).toBe(3);
    expect(json.json(ErrorOutputSchema).error.code).toBe('AUTH_MISSING');
  });

  it('a key without a colon exits 3 before any request', async () => {
    const result = await env.run(['check-key', '--json'], { env: { FAL_KEY: 'nocolonkey123' } });
    expect(result.code).toBe(3);
    expect(result.json(ErrorOutputSchema).error.code).toBe('AUTH_INVALID');
  });
});

describe('config', () => {
  it('set, get, list and unset round-trip through the config file', async () => {
    const set = await env.run(['config', 'set', 'outputDir', './renders', '--json']);
    expect(set.code).toBe(0);
    const setOutput = set.json(ConfigSetOutputSchema);
    expect(setOutput.path).toBe(join(env.dir, 'config', 'falai', 'config.json'));

    const get = await env.run(['config', 'get', 'outputDir', '--json']);
    expect(get.json(ConfigGetOutputSchema)).toMatchObject({
      key: 'outputDir',
      value: './renders',
      set: true,
    });
    expect((await env.run(['config', 'get', 'outputDir'])).stdout.trim()).toBe('./renders');

    await env.run(['config', 'set', 'key', FAL_KEY]);
    const list = await env.run(['config', 'list', '--json']);
    const listed = list.json(ConfigListOutputSchema);
    expect(listed.values.outputDir).toBe('./renders');
    expect(String(listed.values.key)).not.toContain(SECRET);
    expect(listed.effective.outputDir?.source).toMatch(/config file/);
    const onDisk = await readFile(setOutput.path, 'utf8');
    expect(onDisk).toContain('renders');

    const unset = await env.run(['config', 'unset', 'outputDir']);
    expect(unset.code).toBe(0);
    await env.run(['config', 'unset', 'key']);
    const after = await env.run(['config', 'get', 'outputDir', '--json']);
    expect(after.json(ConfigGetOutputSchema).set).toBe(false);
  });

  it('an unknown key is a usage error', async () => {
    const result = await env.run(['config', 'set', 'colour', 'blue']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/colour/);
  });
});

describe('models and model-info', () => {
  it('lists the built-in models', async () => {
    const result = await env.run(['models', '--json']);
    expect(result.code).toBe(0);
    const output = result.json(ModelsOutputSchema);
    const ids = output.models.map((model) => model.endpointId);
    expect(ids).toEqual(
      expect.arrayContaining([
        'fal-ai/nano-banana-pro',
        'fal-ai/nano-banana-pro/edit',
        'fal-ai/flux/dev/image-to-image',
        'fal-ai/kling-video/o3/pro/video-to-video/edit',
      ]),
    );
    const human = await env.run(['models']);
    expect(human.stdout).toContain('fal-ai/nano-banana-pro');
  });

  it('model-info shows fields, references and an example; --json has the JSON Schema', async () => {
    const id = 'fal-ai/kling-video/o3/pro/video-to-video/edit';
    const human = await env.run(['model-info', id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('video_url');
    expect(human.stdout).toMatch(/@Video1|@Image1|@Element1/);
    expect(human.stdout).toContain('Example:');
    const json = (await env.run(['model-info', id, '--json'])).json(ModelInfoOutputSchema);
    expect(json.required).toEqual(expect.arrayContaining(['prompt', 'video_url']));
    expect(json.fileFields).toContain('video_url');
    expect(json.schema).toHaveProperty('properties');
  });

  it('an unknown model exits 4', async () => {
    const result = await env.run(['model-info', 'acme/nope', '--json']);
    expect(result.code).toBe(4);
    expect(result.json(ErrorOutputSchema).error.code).toBe('MODEL_UNKNOWN');
  });
});

describe('to-data-uri and video-to-uri', () => {
  it('encodes an image with the MIME type sniffed from its bytes', async () => {
    const path = join(env.dir, 'picture.jpg'); // a PNG with the wrong extension
    await writeFile(path, PNG);
    const human = await env.run(['to-data-uri', path]);
    expect(human.code).toBe(0);
    expect(human.stdout.trim()).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    const output = (await env.run(['to-data-uri', path, '--json'])).json(DataUriOutputSchema);
    expect(output.mime).toBe('image/png');
    expect(output.size).toBe(PNG.length);
    expect(output.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('a missing file exits 4 with the path in the message', async () => {
    const result = await env.run(['to-data-uri', join(env.dir, 'nope.png')]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/File not found: .*nope\.png/);
  });

  it('video-to-uri refuses a video outside the model limits and lists every problem', async () => {
    const sample = join(CLI_DIR, '..', '..', 'packages', 'emulator', 'assets', 'sample.mp4');
    const result = await env.run(['video-to-uri', sample, '--json']);
    expect(result.code).toBe(4);
    const output = result.json(ErrorOutputSchema);
    expect(output.error.code).toBe('INPUT_INVALID');
    expect(output.error.message).toMatch(/\d+ s long/);
    expect(output.error.message).toMatch(/720|resolution|pixel|px/i);
  });

  it('video-to-uri encodes a video inside the limits and reports its properties', async () => {
    const clip = join(CORE_FIXTURES, 'ok-1280x720-4s.mp4');
    const result = await env.run(['video-to-uri', clip, '--json']);
    expect(result.code).toBe(0);
    const output = result.json(DataUriOutputSchema);
    expect(output.mime).toBe('video/mp4');
    expect(output.video).toMatchObject({ width: 1280, height: 720 });
    expect(output.video?.durationSeconds).toBeGreaterThan(3);
    const bytes = await readFile(clip);
    expect(output.uri).toBe(`data:video/mp4;base64,${bytes.toString('base64')}`);
  });

  it('video-to-uri refuses a file that is not a video', async () => {
    const path = join(env.dir, 'fake.mp4');
    await writeFile(path, 'just text, not a video');
    const result = await env.run(['video-to-uri', path]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^Error: /);
  });
});
