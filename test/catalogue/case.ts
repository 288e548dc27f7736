import type { CatalogueContext } from './context.js';

/** One kind of bad input: where it enters, what happens to it, and the check that shows it. */
export interface BadInputCase {
  readonly id: string;
  readonly stage: 'producer' | 'relay' | 'consumer' | 'jobs';
  readonly input: string;
  readonly outcome: string;
  /** Throws unless the product does what `outcome` says. */
  readonly check: (context: CatalogueContext) => Promise<void>;
}
