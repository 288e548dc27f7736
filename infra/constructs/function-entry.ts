import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The path of one of Eventbox's own Lambda entry points: the TypeScript source when the
 * constructs run from source, the compiled JavaScript when they run from the package.
 */
export function eventboxEntry(relative: string): string {
  for (const extension of ['.ts', '.js']) {
    const path = fileURLToPath(
      new URL(`../../functions/eventbox/${relative}${extension}`, import.meta.url),
    );
    if (existsSync(path)) return path;
  }
  throw new Error(
    `Eventbox function entry "functions/eventbox/${relative}" not found next to the constructs`,
  );
}
