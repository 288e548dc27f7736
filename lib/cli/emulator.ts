import { parseArgs } from 'node:util';
import { ensureMinistackInstalled } from '../emulator/ministack.js';
import { startEmulator } from '../emulator/start.js';
import type { CommandIo } from './io.js';
import { UsageError } from './usage-error.js';

export const emulatorUsage = `eventbox emulator [--port N] [--dynamodb-local] [--json]
eventbox emulator install

Starts the local AWS emulator (ministack, installed on first use into .eventbox/venv of
this project) and prints the environment to use it from another shell, the CDK CLI's
included; runs until interrupted. "install" only creates the venv.

  --port N           ministack's port (default: a free one)
  --dynamodb-local   also start DynamoDB Local (needs Java and amplify-dynamodb-simulator)
  --json             print the environment as one JSON object`;

export async function emulatorCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'dynamodb-local': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals[0] === 'install') {
    const venv = ensureMinistackInstalled({ log: io.say });
    io.out(`ministack venv ready: ${venv}`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unknown emulator command "${positionals[0]}"`);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535))
    throw new UsageError(`--port must be a port number; got ${values.port}`);
  const emulator = await startEmulator({
    dynamoDbLocal: values['dynamodb-local'],
    ...(port === undefined ? {} : { port }),
    log: io.say,
  });
  if (values.json) {
    io.out(JSON.stringify({ endpoint: emulator.endpoint, env: emulator.env }));
  } else {
    io.out(`ministack: ${emulator.endpoint}`);
    for (const engine of emulator.dynamoDbEngines.slice(1))
      io.out(`${engine.name}: ${engine.endpoint}`);
    io.out('\n# use the emulator from another shell:');
    for (const [name, value] of Object.entries(emulator.env)) io.out(`export ${name}=${value}`);
    io.out('\n# then deploy a CDK app to it:');
    io.out(
      `npx cdk bootstrap aws://${emulator.env.CDK_DEFAULT_ACCOUNT}/${emulator.env.AWS_REGION} && npx cdk deploy -c eventbox:emulator=true`,
    );
    io.say('\nrunning; press Ctrl-C to stop');
  }
  await io.untilInterrupted();
  await emulator.stop();
  return 0;
}
