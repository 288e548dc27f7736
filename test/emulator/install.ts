import { ensureMinistackInstalled } from './ministack.js';
import { PrerequisiteError } from './prerequisites.js';

/** Creates (or verifies) the project-local ministack venv; used by CI and `npm run emulator:install`. */
try {
  ensureMinistackInstalled((line) => process.stdout.write(`${line}\n`));
  process.stdout.write('ministack venv ready\n');
} catch (error) {
  process.stderr.write(`${error instanceof PrerequisiteError ? error.message : String(error)}\n`);
  process.exit(1);
}
