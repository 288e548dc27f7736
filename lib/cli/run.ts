import { PrerequisiteError } from '../emulator/prerequisites.js';
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

/** A command's lines of the form "eventbox <command> ...": every form it takes. */
const forms = (text: string) => text.split('\n').filter((line) => line.startsWith('eventbox '));

const usage = `usage: eventbox <command> [options]

commands:
${Object.values(commands)
  .flatMap((c) => forms(c.usage).map((line) => `  ${line}`))
  .join('\n')}

eventbox <command> --help shows a command's options.`;

/**
 * The command and its arguments, wherever on the line the command is: global options such
 * as `--stack X` may come before it.
 */
function commandOf(argv: readonly string[]): { name?: string; args: string[] } {
  const at = argv.findIndex((token) => Object.hasOwn(commands, token));
  if (at < 0) return { ...(argv[0] === undefined ? {} : { name: argv[0] }), args: argv.slice(1) };
  return { name: argv[at] as string, args: [...argv.slice(0, at), ...argv.slice(at + 1)] };
}

/**
 * Runs one command line; resolves the exit code. Every error is one line and a non-zero
 * exit: 2 for a command line that cannot be run (with a pointer to `--help`), 1 for a
 * failure; `EVENTBOX_DEBUG=1` adds the stack of an unexpected one.
 */
export async function runCli(argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  const { name, args } = commandOf(argv);
  if (name === undefined || name === '--help' || name === 'help') {
    io.out(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.say(`eventbox: unknown command "${name}"; eventbox --help lists the commands`);
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
      io.say(`eventbox ${name}: ${(error as Error).message} (eventbox ${name} --help)`);
      return 2;
    }
    if (error instanceof CommandError || error instanceof PrerequisiteError) {
      io.say(`eventbox ${name}: ${error.message}`);
      return 1;
    }
    const failure = error instanceof Error ? error : new Error(String(error));
    io.say(`eventbox ${name}: ${failure.name}: ${failure.message.split('\n')[0]}`);
    if (process.env.EVENTBOX_DEBUG && failure.stack) io.say(failure.stack);
    return 1;
  }
}
