import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventboxDirs } from '../../lib/emulator/paths.js';
import '../helpers/outer-env.js';
import { readmeCodeBlocks } from './readme-blocks.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');

/**
 * The package as a user gets it: packed, installed into a project outside the repository,
 * type-checked and imported there, and used by that project's own tests, which deploy its
 * own CDK app to an emulator the project starts itself through `eventbox/testing`.
 */
describe('The packed package, in a project of its own', () => {
  const work = mkdtempSync(join(tmpdir(), 'eventbox-user-'));
  const project = join(work, 'inventory-service');
  // The user's project starts its own emulator, unless the suite runs against an external
  // endpoint (AWS_ENDPOINT_URL set before the run): it runs in the environment the run
  // started with, without what the integration tests' setup added.
  const env = inject('outerEnv');
  const inProject = (command: string, args: readonly string[], timeout = 600_000) =>
    run(command, [...args], { cwd: project, env, timeout, maxBuffer: 64 * 1024 * 1024 });

  beforeAll(async () => {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: repo,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{
      filename: string;
      size: number;
      unpackedSize: number;
      files: Array<{ path: string; size: number }>;
    }>;
    if (!packed) throw new Error('npm pack reported nothing');
    const report = join(eventboxDirs(repo).home, 'package');
    mkdirSync(report, { recursive: true });
    writeFileSync(join(report, 'contents.json'), `${JSON.stringify(packed, null, 2)}\n`);

    cpSync(join(repo, 'test', 'user-project'), project, {
      recursive: true,
      filter: (source) => !/node_modules|\.eventbox|cdk\.out/.test(source),
    });
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    manifest.dependencies.eventbox = `file:${join(work, packed.filename)}`;
    writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
    mkdirSync(join(project, 'readme'));
    readmeCodeBlocks(readFileSync(join(repo, 'README.md'), 'utf8')).forEach((block, i) => {
      writeFileSync(join(project, 'readme', `block-${i + 1}.ts`), block.code);
    });
    await inProject('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund']);
  }, 900_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('ships compiled code and types for every subpath, a LICENSE, and no example or test tooling', () => {
    const { files } = JSON.parse(
      readFileSync(join(eventboxDirs(repo).home, 'package', 'contents.json'), 'utf8'),
    ) as { files: Array<{ path: string }> };
    const paths = files.map((f) => f.path);
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string } | string>;
      bin: Record<string, string>;
    };
    for (const target of Object.values(manifest.exports)) {
      if (typeof target === 'string') continue;
      expect(paths).toContain(target.types.replace('./', ''));
      expect(paths).toContain(target.default.replace('./', ''));
    }
    expect(paths).toContain(Object.values(manifest.bin)[0]);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    expect(
      paths.filter((p) => /example|faults|demo|\.map$|^test\/|\.ts$(?<!\.d\.ts$)/.test(p)),
    ).toStrictEqual([]);
  });

  it('type-checks a user file importing every subpath, the CDK app, the handlers and every README example', async () => {
    await expect(
      inProject(join(project, 'node_modules', '.bin', 'tsc'), ['--noEmit']),
    ).resolves.toBeDefined();
  });

  it('imports every subpath at run time, and runs the eventbox command', async () => {
    const imports = await inProject('node', ['src/check-imports.mjs']);
    expect(imports.stdout.trim().split('\n')).toHaveLength(7);
    const help = await inProject(join(project, 'node_modules', '.bin', 'eventbox'), ['--help']);
    expect(help.stdout).toContain('eventbox emulator');
  });

  it('starts the emulator from the command line, prints its environment, and cleans up on Ctrl-C', async () => {
    // Prepare
    const child = spawn(join(project, 'node_modules', '.bin', 'eventbox'), ['emulator', '--json'], {
      cwd: project,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];

    // Act
    const printed = JSON.parse(line) as { endpoint: string; env: Record<string, string> };
    const health = await fetch(new URL('/_ministack/health', printed.endpoint));
    const port = new URL(printed.endpoint).port;
    child.kill('SIGINT');
    const code = await exited;

    // Assess
    expect(health.ok).toBe(true);
    expect(printed.env).toMatchObject({
      AWS_ENDPOINT_URL: printed.endpoint,
      AWS_ACCESS_KEY_ID: expect.any(String),
      AWS_SECRET_ACCESS_KEY: expect.any(String),
      AWS_REGION: expect.any(String),
      CDK_DEFAULT_ACCOUNT: '000000000000',
      CDK_S3_FORCE_PATH_STYLE: '1',
      EVENTBOX_EMULATOR: 'true',
    });
    expect(code).toBe(0);
    expect(
      readdirSync(tmpdir()).filter((d) => d.startsWith(`eventbox-ministack-${port}-`)),
    ).toStrictEqual([]);
  }, 300_000);

  it("passes the project's own tests: its app deployed to the emulator, events pushed through", async () => {
    const result = await inProject(
      join(project, 'node_modules', '.bin', 'vitest'),
      ['run'],
      900_000,
    ).catch((error: { stdout?: string; stderr?: string }) => error);
    expect(result.stdout).toMatch(/Tests\s+.*2 passed/);
    expect(result.stderr ?? '').not.toMatch(/FAIL/);
  }, 900_000);
});
