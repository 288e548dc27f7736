import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCatalogue } from './catalogue.js';

/** `npm run docs`: writes docs/bad-input.md from the catalogue. */
const target = fileURLToPath(new URL('../../docs/bad-input.md', import.meta.url));
writeFileSync(target, renderCatalogue());
process.stdout.write(`wrote ${target}\n`);
