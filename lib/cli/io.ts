/** Where a command writes, so tests can run commands in-process and read what they print. */
export interface CommandIo {
  /** Results: stdout. */
  out(line: string): void;
  /** Progress and hints: stderr. */
  say(line: string): void;
  /** Whether stdout is a terminal (colour, progress bars). */
  readonly interactive: boolean;
  /** Resolves on Ctrl-C or SIGTERM (long-running commands). */
  untilInterrupted(): Promise<void>;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  say: (line) => process.stderr.write(`${line}\n`),
  interactive: Boolean(process.stdout.isTTY),
  untilInterrupted: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
};
