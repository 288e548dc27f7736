import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** One import of a source file: what it names, and the repository file it resolves to. */
export interface SourceImport {
  readonly specifier: string;
  /** The imported file relative to the root, or undefined for a package. */
  readonly file: string | undefined;
}

/** The TypeScript files under `folders`, relative to `root`. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) files.push(relative(root, path));
    }
  };
  for (const folder of folders) if (existsSync(join(root, folder))) walk(join(root, folder));
  return files.sort();
}

/** Every import and re-export of a file, type-only ones included, resolved where relative. */
export function importsOf(root: string, file: string): SourceImport[] {
  const text = readFileSync(join(root, file), 'utf8');
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier }) => {
    if (!specifier.startsWith('.')) return { specifier, file: undefined };
    const target = resolve(root, dirname(file), specifier).replace(/\.js$/, '.ts');
    return { specifier, file: relative(root, target) };
  });
}

/** The files `entry` reaches through relative imports, itself included. */
export function reachableFrom(root: string, entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file) || !existsSync(join(root, file))) continue;
    seen.add(file);
    for (const imported of importsOf(root, file)) if (imported.file) pending.push(imported.file);
  }
  return seen;
}

/** The package a bare specifier names: `@scope/name` or `name`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}
