import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

const run = (...args: string[]) => runCli(args);

describe('the llava-desk command', () => {
  it('lists every command in --help and exits 0', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    for (const command of ['ask', 'describe', 'models', 'inspect-image', 'serve']) {
      expect(out).toContain(command);
    }
  });

  it('offers --data-dir on every command', async () => {
    for (const command of [
      ['ask'],
      ['describe'],
      ['inspect-image'],
      ['serve'],
      ['models', 'list'],
    ]) {
      const { out } = await run(...command, '--help');
      expect(out, command.join(' ')).toContain('--data-dir');
    }
  });

  it('exits 2 with a message for an unknown command or a bad option', async () => {
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'frobnicate'");
    const badPort = await run('serve', '--port', 'seventy');
    expect(badPort.code).toBe(2);
    expect(badPort.err).toContain('port');
  });

  it('refuses to serve beyond this machine unless asked', async () => {
    const { code, err } = await run('serve', '--host', '0.0.0.0', '--port', '0');
    expect(code).toBe(2);
    expect(err).toContain('--allow-remote');
  });
});
