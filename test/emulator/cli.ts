import { startEmulators } from './environment.js';
import { PrerequisiteError } from './prerequisites.js';

/**
 * `npm run emulator`: starts ministack and DynamoDB Local, prints the environment to use
 * with them, and keeps them running until interrupted.
 */
async function main(): Promise<void> {
  const environment = await startEmulators();
  for (const engine of environment.dynamoDbEngines) {
    process.stdout.write(`${engine.name}: ${engine.endpoint}\n`);
  }
  process.stdout.write('\nexport these to use the emulator from another shell:\n');
  for (const [name, value] of Object.entries(environment.env)) {
    process.stdout.write(`export ${name}=${value}\n`);
  }
  process.stdout.write('\nrunning; press Ctrl-C to stop\n');
  const stop = async () => {
    await environment.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof PrerequisiteError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
