import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RunningEmulator } from './ministack.js';
import { logDir } from './paths.js';
import { findJava } from './prerequisites.js';
import { freePort, spawnLogged, waitUntilReady } from './process.js';

function emulatorDir(): string {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDBLocal.jar not found in ${dir}; run npm ci`);
  }
  return dir;
}

/** Starts AWS's DynamoDB Local engine in memory, one shared database for every credential. */
export async function startDynamoDbLocal(): Promise<RunningEmulator> {
  const java = findJava();
  const dir = emulatorDir();
  const port = await freePort();
  const spawned = spawnLogged(
    java,
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-port',
      String(port),
    ],
    { cwd: dir, env: process.env, logFile: join(logDir, `dynamodb-local-${port}.log`) },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  // Any HTTP answer means the server is listening; DynamoDB Local answers 400 to a bare GET.
  await waitUntilReady(
    'DynamoDB Local',
    spawned,
    async () => (await fetch(endpoint)).status > 0,
    60_000,
  );
  return { name: 'dynamodb-local', endpoint, logFile: spawned.logFile, stop: () => spawned.stop() };
}
