/** A demo or deployment stage failed; says which, and where its logs are. */
export class StageError extends Error {
  override name = 'StageError';

  constructor(
    readonly stage: string,
    message: string,
    readonly logFiles: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(
      `${stage} failed: ${message}${logFiles.length > 0 ? `\n  logs: ${logFiles.join(', ')}` : ''}`,
      options,
    );
  }
}

/** A command-line value that must be a positive integer. */
export function positiveInteger(option: string, value: string | undefined): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new StageError('arguments', `--${option} must be a positive integer; got ${value}`);
  }
  return number;
}
