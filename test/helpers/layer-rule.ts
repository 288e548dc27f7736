import { readFileSync } from 'node:fs';
import { importsOf, type SourceImport } from './import-graph.js';

/**
 * The layer of each folder of `lib/` (docs/architecture.md): a folder imports only from
 * folders of a lower layer; folders of one layer do not import each other.
 */
export const LIB_LAYERS: Readonly<Record<string, number>> = {
  shared: 0,
  envelope: 1,
  transaction: 2,
  producer: 3,
  relay: 3,
  delivery: 3,
  consumer: 4,
  jobs: 5,
  emulator: 6,
  cli: 7,
  testing: 7,
};

/** What the package ships (its `files`): the library, the constructs, the Lambda entries. */
export const SHIPPED = ['lib', 'infra/constructs', 'functions/eventbox'];
export const EXAMPLE = ['infra/example', 'infra/app.ts', 'functions/example'];
export const TOOLING = ['infra/demo', 'functions/demo'];

export const within = (file: string, folders: readonly string[]) =>
  folders.some((folder) => file === folder || file.startsWith(`${folder}/`));

export const libFolder = (file: string) => /^lib\/([^/]+)\//.exec(file)?.[1];

/** The files the package's `exports` name: the only way in for code outside the package. */
export function publicEntries(root: string): Set<string> {
  const manifest = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
    exports: Record<string, string | { default: string }>;
  };
  return new Set(
    Object.values(manifest.exports)
      .map((target) => (typeof target === 'string' ? target : target.default))
      .filter((target) => target.startsWith('./dist/'))
      .map((target) => target.replace('./dist/', '').replace(/\.js$/, '.ts')),
  );
}

type Violation = { file: string; imports: string };

/** The imports of `files` that `allowed` refuses, as "file → import". */
export function violations(
  root: string,
  files: readonly string[],
  allowed: (file: string, imported: SourceImport) => boolean,
): string[] {
  const found: Violation[] = [];
  for (const file of files)
    for (const imported of importsOf(root, file))
      if (!allowed(file, imported))
        found.push({ file, imports: imported.file ?? imported.specifier });
  return found.map(({ file, imports }) => `${file} → ${imports}`);
}

/** The layer rule for `lib/`, over any set of files (the test below checks it on a probe). */
export function layerViolations(root: string, files: readonly string[]): string[] {
  return violations(root, files, (file, imported) => {
    const from = libFolder(file);
    if (from === undefined) return true;
    if (imported.file === undefined) return true;
    const to = libFolder(imported.file);
    if (to === undefined) return false; // lib/ never imports infra/, functions/ or test/
    if (to === from) return true;
    const [a, b] = [LIB_LAYERS[from], LIB_LAYERS[to]];
    return a !== undefined && b !== undefined && b < a;
  });
}

/** Imports of `files` that reach Eventbox other than through its public entry points. */
export function publicApiViolations(
  root: string,
  files: readonly string[],
  own: readonly string[],
): string[] {
  const entries = publicEntries(root);
  return violations(
    root,
    files,
    (_, imported) => !imported.file || within(imported.file, own) || entries.has(imported.file),
  );
}
