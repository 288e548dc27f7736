import { spawnSync } from 'node:child_process';
import { EventBoxError } from '../shared/errors.js';

/** A tool the emulators need is missing; the message says what to install. */
export class PrerequisiteError extends EventBoxError {
  override name = 'PrerequisiteError';
}

const MIN_PYTHON: readonly [number, number] = [3, 10];

/** Finds a Python interpreter of at least 3.10, preferring `EVENTBOX_PYTHON`. */
export function findPython(): string {
  const candidates = [process.env.EVENTBOX_PYTHON, 'python3', 'python'].filter(
    (c): c is string => typeof c === 'string' && c.length > 0,
  );
  for (const candidate of candidates) {
    const probe = spawnSync(
      candidate,
      ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
      {
        encoding: 'utf8',
      },
    );
    if (probe.status !== 0) continue;
    const [major = 0, minor = 0] = probe.stdout.trim().split('.').map(Number);
    if (major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1])) {
      return candidate;
    }
  }
  throw new PrerequisiteError(
    `Python >= ${MIN_PYTHON.join('.')} is required to run the ministack emulator: install python3 (with venv and pip) or set EVENTBOX_PYTHON to its path.`,
  );
}

/** Checks that a Java runtime is on the PATH (DynamoDB Local is a Java program). */
export function findJava(): string {
  const java = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new PrerequisiteError(
      'Java 11 or newer is required to run DynamoDB Local: install a JRE (for example openjdk-17-jre-headless) or set JAVA_HOME.',
    );
  }
  return java;
}
