import type { CommandIo } from '../../lib/cli/io.js';
import { runCli } from '../../lib/cli/run.js';

/** Runs an eventbox command line in-process; returns the exit code and what it printed. */
export async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    out: (line) => out.push(line),
    say: (line) => err.push(line),
    interactive: false,
    untilInterrupted: async () => {},
  };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
