import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { badInputCatalogue, renderCatalogue } from '../catalogue/catalogue.js';
import type { CatalogueContext } from '../catalogue/context.js';
import { clientConfig, createTable, type TestTable } from '../helpers/aws.js';

describe('Bad input catalogue', () => {
  let table: TestTable;
  let context: CatalogueContext;

  beforeAll(async () => {
    table = await createTable(inject('eventbox').endpoint, 'catalogue');
    context = {
      tableName: table.tableName,
      client: table.client,
      clientConfig: clientConfig(),
    };
  });

  afterAll(async () => {
    await table.drop();
  });

  it('has at least 20 kinds, across the three stages', () => {
    expect(badInputCatalogue.length).toBeGreaterThanOrEqual(20);
    expect(new Set(badInputCatalogue.map((c) => c.stage))).toStrictEqual(
      new Set(['producer', 'relay', 'consumer', 'jobs']),
    );
    expect(new Set(badInputCatalogue.map((c) => c.id)).size).toBe(badInputCatalogue.length);
  });

  it.each(badInputCatalogue.map((c) => [`${c.id} ${c.input}: ${c.outcome}`, c] as const))(
    '%s',
    async (_, c) => {
      await c.check(context);
    },
  );

  it('is what docs/bad-input.md says', () => {
    const docs = readFileSync(
      fileURLToPath(new URL('../../docs/bad-input.md', import.meta.url)),
      'utf8',
    );

    expect(docs).toBe(renderCatalogue());
  });
});
