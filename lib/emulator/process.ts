import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Asks the OS for a port that is free right now on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly logFile: string;
  stop(): Promise<void>;
}

/** Starts a long-running process in its own process group, logging to a file. */
export function spawnLogged(
  command: string,
  args: readonly string[],
  options: {
    env: NodeJS.ProcessEnv;
    cwd?: string;
    logFile: string;
    /** Cleans up after the process (its scratch folders); runs once, however it ended. */
    onStopped?: () => void;
  },
): Spawned {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let cleaned = false;
  const cleanUp = () => {
    if (cleaned) return;
    cleaned = true;
    options.onStopped?.();
  };
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      cleanUp();
      resolve();
    }),
  );
  // A parent that exits without calling stop() must not leave an emulator behind.
  const onParentExit = () => {
    signalGroup(child, 'SIGKILL');
    cleanUp();
  };
  process.once('exit', onParentExit);
  void exited.then(() => process.off('exit', onParentExit));
  return {
    child,
    logFile: options.logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!done) {
        signalGroup(child, 'SIGKILL');
        await exited;
      }
      log.end();
    },
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // The negative pid reaches the whole group: the emulators start workers of their own.
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Polls `probe` until it resolves true, the process dies, or the deadline passes. */
export async function waitUntilReady(
  name: string,
  spawned: Spawned,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawned.child.exitCode !== null) {
      throw new Error(`${name} exited with code ${spawned.child.exitCode}; see ${spawned.logFile}`);
    }
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  await spawned.stop();
  throw new Error(`${name} did not become healthy within ${timeoutMs} ms; see ${spawned.logFile}`);
}
