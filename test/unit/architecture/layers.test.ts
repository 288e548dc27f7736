import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { importsOf, packageOf, reachableFrom, sourceFiles } from '../../helpers/import-graph.js';
import {
  EXAMPLE,
  LIB_LAYERS,
  layerViolations,
  libFolder,
  publicApiViolations,
  SHIPPED,
  TOOLING,
  violations,
  within,
} from '../../helpers/layer-rule.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

const ALL = sourceFiles(root, ['lib', 'infra', 'functions']);

describe('The layer rule', () => {
  it('names a layer for every folder of lib/', () => {
    const folders = new Set(ALL.map(libFolder).filter((folder) => folder !== undefined));
    expect([...folders].filter((folder) => !(folder in LIB_LAYERS))).toEqual([]);
  });

  it('lets a folder of lib/ import only lower layers, and never infra/, functions/ or test/', () => {
    expect(
      layerViolations(
        root,
        ALL.filter((file) => file.startsWith('lib/')),
      ),
    ).toEqual([]);
  });

  it('catches an import against the rule (a probe file that imports upwards)', () => {
    const probeRoot = mkdtempSync(`${root}/lib/transaction/.probe-`);
    try {
      mkdirSync(probeRoot, { recursive: true });
      const probe = `${relative(root, probeRoot)}/upwards.ts`;
      writeFileSync(
        `${root}/${probe}`,
        "import { withInbox } from '../../consumer/index.js';\nexport const x = withInbox;\n",
      );
      expect(layerViolations(root, [probe])).toEqual([`${probe} → lib/consumer/index.ts`]);
    } finally {
      rmSync(probeRoot, { recursive: true, force: true });
    }
  });

  it("keeps lib/transaction free of its callers' cases: no inbox, job or synchronize in its code", () => {
    const named = ALL.filter((file) => file.startsWith('lib/transaction/')).flatMap((file) =>
      codeLines(`${root}/${file}`)
        .filter((line) => /inbox|job|synchroni[sz]e/i.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
    expect(named).toEqual([]);
  });

  it('keeps what ships apart from the example app and the demo, soak and fault tooling', () => {
    const shipped = ALL.filter((file) => within(file, SHIPPED));
    expect(
      violations(root, shipped, (_, imported) => !imported.file || within(imported.file, SHIPPED)),
    ).toEqual([]);
  });

  it('keeps the example app apart from the tooling, and on the package public API', () => {
    const example = ALL.filter((file) => within(file, EXAMPLE));
    expect(publicApiViolations(root, example, EXAMPLE)).toEqual([]);
  });

  it('has the demo, soak and fault tooling use only the package public API', () => {
    const tooling = ALL.filter((file) => within(file, TOOLING));
    expect(publicApiViolations(root, tooling, [...TOOLING, ...EXAMPLE])).toEqual([]);
  });

  it('never lets a Lambda bundle reach the CDK, the testing kit or the emulator', () => {
    const entries = ALL.filter(
      (file) =>
        within(file, ['functions']) &&
        /\/(index|runner|relay|dispatcher|user-score|job-runner)\.ts$/.test(file),
    );
    expect(entries.length).toBeGreaterThan(5);
    const forbidden: string[] = [];
    for (const entry of entries)
      for (const file of reachableFrom(root, entry)) {
        if (within(file, ['lib/testing', 'lib/emulator', 'lib/cli', 'infra']))
          forbidden.push(`${entry} reaches ${file}`);
        for (const imported of importsOf(root, file))
          if (
            !imported.file &&
            ['aws-cdk-lib', 'constructs', 'vitest', 'cdk-nag'].includes(
              packageOf(imported.specifier),
            )
          )
            forbidden.push(`${entry} reaches ${imported.specifier} (from ${file})`);
      }
    expect(forbidden).toEqual([]);
  });
});

/**
 * A file's lines without its comments, which may name callers as examples: printed by
 * TypeScript's own printer, which knows a `//` inside a string from a comment.
 */
function codeLines(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  return ts
    .createPrinter({ removeComments: true })
    .printFile(source)
    .split('\n')
    .filter((line) => line.trim().length > 0);
}
