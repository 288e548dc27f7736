import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { eventboxBundling } from '../../infra/constructs/bundling.js';
import { round, summarize } from '../../infra/demo/stats.js';

const COLD_LOADS = 15;

/** The Lambda entries whose bundles matter on the hot path. */
const ENTRIES = {
  relay: 'functions/eventbox/relay/index.ts',
  consumer: 'functions/example/user-score/index.ts',
  sdkFloor: 'test/bench/fixtures/sdk-floor.ts',
} as const;

const ENVIRONMENT = {
  EVENTBOX_EVENT_BUS_NAME: 'bench',
  EVENTBOX_TABLE_NAME: 'bench',
  EVENTBOX_CONSUMER_NAME: 'bench',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
};

/**
 * Builds an entry as the constructs do (esbuild: ESM, minified, ES module builds first, the
 * AWS SDK bundled) and
 * measures its size and how long a fresh Node.js process takes to load it: the part of a
 * cold start that is the function's own.
 */
async function benchBundle(entry: string) {
  const dir = mkdtempSync(join(tmpdir(), 'eventbox-bundle-'));
  const outfile = join(dir, 'index.mjs');
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../../${entry}`, import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: eventboxBundling.target,
    minify: true,
    mainFields: eventboxBundling.mainFields,
    banner: { js: eventboxBundling.banner ?? '' },
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  const code = readFileSync(outfile);
  const byPackage = new Map<string, number>();
  const [output] = Object.values(result.metafile.outputs);
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = match?.[1] ?? 'eventbox';
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  const loader = join(dir, 'load.mjs');
  writeFileSync(
    loader,
    `const t = performance.now(); await import(${JSON.stringify(outfile)}); process.stdout.write(String(performance.now() - t));`,
  );
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, bytes]) => ({ name, kb: round(bytes / 1024, 1) }));
  return {
    entry,
    minifiedKb: round(code.length / 1024, 1),
    gzippedKb: round(gzipSync(code).length / 1024, 1),
    largest,
    load: () => {
      const run = spawnSync(process.execPath, [loader], {
        encoding: 'utf8',
        env: { ...process.env, ...ENVIRONMENT },
      });
      if (run.status !== 0) throw new Error(`loading ${entry} failed: ${run.stderr}`);
      return Number(run.stdout);
    },
  };
}

/**
 * The relay's and the consumer's bundles, beside the floor the AWS SDK and Powertools set;
 * cold loads interleaved, so that the machine's load falls on all alike.
 */
export async function benchBundles() {
  const built = {
    relay: await benchBundle(ENTRIES.relay),
    consumer: await benchBundle(ENTRIES.consumer),
    sdkFloor: await benchBundle(ENTRIES.sdkFloor),
  };
  const loads = new Map(Object.keys(built).map((name) => [name, [] as number[]]));
  for (let i = 0; i < COLD_LOADS; i++)
    for (const [name, bundle] of Object.entries(built)) loads.get(name)?.push(bundle.load());
  return Object.fromEntries(
    Object.entries(built).map(([name, { load: _, ...bundle }]) => {
      const summary = summarize(loads.get(name) ?? []);
      return [
        name,
        { ...bundle, loadMs: round(summary.median, 1), loadMsP99: round(summary.p99, 1) },
      ];
    }),
  );
}
