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
