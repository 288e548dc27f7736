import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the emulators' logs go; one file per started process. */
export const logDir = join(projectRoot, '.eventbox', 'logs');
