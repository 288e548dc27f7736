import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';

describe('Function: runCli', () => {
  it('prints the commands for --help and exits 0', async () => {
    const { code, out } = await cli('--help');

    expect(code).toBe(0);
    expect(out).toContain('eventbox emulator');
  });

  it('names an unknown command in one line and exits 2', async () => {
    const { code, err } = await cli('launch');

    expect(code).toBe(2);
    expect(err.split('\n')[0]).toBe('eventbox: unknown command "launch"');
  });

  it.each([
    [['emulator', '--port', 'abc'], '--port must be a port number; got abc'],
    [['emulator', '--colour'], "Unknown option '--colour'"],
    [['emulator', 'reinstall'], 'unknown emulator command "reinstall"'],
  ])('refuses %j with the reason and the usage, exit 2', async (argv, reason) => {
    const { code, err } = await cli(...argv);

    expect(code).toBe(2);
    expect(err).toContain(reason);
    expect(err).toContain('eventbox emulator [--port N]');
  });
});
