import * as z from 'zod/mini';

/** Checks the options schemas share, on zod/mini so that bundles carry only these. */
export const OptionChecks = {
  /** An optional integer from `min` to `max`, each bound named in its message. */
  int: (min: number, max: number) =>
    z.optional(
      z
        .number()
        .check(
          z.refine(Number.isInteger, 'must be an integer'),
          z.gte(min, `must be at least ${min}`),
          z.lte(max, `must be at most ${max}`),
        ),
    ),
  /** A client or a logger: checked by TypeScript, not at run time. */
  anything: z.optional(z.unknown()),
  /** An SDK client's configuration object. */
  config: z.optional(z.record(z.string(), z.unknown())),
  nonEmpty: z.string().check(z.minLength(1, 'must not be empty')),
} as const;
