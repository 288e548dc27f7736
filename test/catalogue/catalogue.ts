import type { BadInputCase } from './case.js';
import { consumerCases } from './consumer-cases.js';
import { jobsCases } from './jobs-cases.js';
import { producerCases } from './producer-cases.js';
import { relayCases } from './relay-cases.js';

/** Every kind of bad input Eventbox handles on purpose, by stage. */
export const badInputCatalogue: readonly BadInputCase[] = [
  ...producerCases,
  ...relayCases,
  ...consumerCases,
  ...jobsCases,
];

/** The catalogue as the Markdown table in docs/bad-input.md. */
export function renderCatalogue(cases: readonly BadInputCase[] = badInputCatalogue): string {
  const stages = {
    producer: 'Producer: a typed error before anything is sent',
    relay: 'Relay: ignored, or dead-lettered with the reason',
    consumer: 'Consumer: dead-lettered with the reason, or handled by design',
    jobs: 'Jobs: a typed error before commit, or the job stalled with the reason',
  };
  const lines = [
    '# Bad input: what Eventbox does with it',
    '',
    'Generated from `test/catalogue/` by `npm run docs`; `npm test` runs every check and fails',
    'if this file differs from the catalogue.',
    '',
  ];
  for (const [stage, title] of Object.entries(stages)) {
    lines.push(`## ${title}`, '', '| # | bad input | outcome |', '|---|---|---|');
    for (const c of cases.filter((c) => c.stage === stage))
      lines.push(`| ${c.id} | ${c.input} | ${c.outcome} |`);
    lines.push('');
  }
  lines.push(`${cases.length} kinds in all.`, '');
  return lines.join('\n');
}
