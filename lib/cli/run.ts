import { PrerequisiteError } from '../testing/emulator/prerequisites.js';
import { archiveCommand, archiveUsage } from './archive.js';
import { dlqCommand, dlqUsage } from './dlq.js';
import { emulatorCommand, emulatorUsage } from './emulator.js';
import { type CommandIo, processIo } from './io.js';
import { jobsCommand, jobsUsage } from './jobs.js';
import { outboxCommand, outboxUsage } from './outbox.js';
import { statusCommand, statusUsage } from './status.js';
import { CommandError, UsageError } from './usage-error.js';

type Command = (args: readonly string[], io: CommandIo) => Promise<number>;

const commands: Record<string, { readonly run: Command; readonly usage: string }> = {
  archive: { run: (args, io) => archiveCommand(args, io), usage: archiveUsage },
  dlq: { run: dlqCommand, usage: dlqUsage },
  emulator: { run: emulatorCommand, usage: emulatorUsage },
  jobs: { run: jobsCommand, usage: jobsUsage },
  outbox: { run: outboxCommand, usage: outboxUsage },
  status: { run: statusCommand, usage: statusUsage },
};

const usage = `usage: eventbox <command> [options]

commands:
${Object.values(commands)
  .map((c) => `  ${c.usage.split('\n')[0]}`)
  .join('\n')}

eventbox <command> --help shows a command's options.`;

/** Runs one command line; resolves the exit code. Errors the user can act on are one line. */
export async function runCli(argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === 'help') {
    io.out(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.say(`eventbox: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  if (args.includes('--help')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.say(`eventbox ${name}: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    if (error instanceof CommandError || error instanceof PrerequisiteError) {
      io.say(`eventbox ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
