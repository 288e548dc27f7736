import { DescribeTableCommand, InternalServerError } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
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
    expect(err).toBe('eventbox: unknown command "launch"; eventbox --help lists the commands');
  });

  it.each([
    [['emulator', '--port', 'abc'], '--port must be a port number; got abc'],
    [['emulator', '--colour'], "Unknown option '--colour'"],
    [['emulator', 'reinstall'], 'unknown emulator command "reinstall"'],
  ])('refuses %j with the reason in one line, exit 2', async (argv, reason) => {
    const { code, err } = await cli(...argv);

    expect(code).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain(reason);
    expect(err).toContain('(eventbox emulator --help)');
  });

  it('lists every form of every command in --help', async () => {
    const { out } = await cli('--help');

    for (const form of ['dlq show', 'dlq redrive', 'jobs show', 'jobs resume', 'outbox replay'])
      expect(out).toContain(`eventbox ${form}`);
  });

  it('takes global options before the command', async () => {
    const { code, err } = await cli('--port', 'abc', 'emulator');

    expect(code).toBe(2);
    expect(err).toContain('--port must be a port number; got abc');
  });

  it('reports an unexpected error (an SDK refusal) in one line with its name, exit 1, no stack', async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    ddb
      .on(DescribeTableCommand)
      .rejects(new InternalServerError({ message: 'Internal server error', $metadata: {} }));
    const { code, err } = await cli(
      'outbox',
      'replay',
      '--table',
      'nowhere',
      '--bus',
      'nobus',
      '--since',
      '2026-12-01T10:00:00Z',
      '--until',
      '2026-12-01T11:00:00Z',
      '--dry-run',
    );
    ddb.restore();

    expect(code).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toBe('eventbox outbox: InternalServerError: Internal server error');
    expect(err).not.toContain('    at ');
  });
});
