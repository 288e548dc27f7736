import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type EventEnvelope,
  type EventOf,
  type InboxContext,
  withInbox,
} from '../../../lib/consumer/index.js';

const schemas = {
  StockReserved: z.object({ sku: z.string(), quantity: z.number() }),
  StockReleased: z.object({ sku: z.string(), reason: z.enum(['canceled', 'expired']) }),
};

/**
 * Compile-time checks of the consumer's public generics: `tsc` (npm run typecheck) fails
 * when a type stops narrowing; the runtime assertions are there for vitest only.
 */
describe('Function: withInbox types', () => {
  it('narrows the event by type to each payload schema output', () => {
    withInbox(
      async (event, ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<InboxContext>();
        switch (event.type) {
          case 'StockReserved':
            expectTypeOf(event.payload).toEqualTypeOf<{ sku: string; quantity: number }>();
            return;
          case 'StockReleased':
            expectTypeOf(event.payload.reason).toEqualTypeOf<'canceled' | 'expired'>();
            return;
          default:
            expectTypeOf(event).toBeNever();
        }
      },
      { consumerName: 'stock', tableName: 'stock', schemas },
    );
  });

  it('accepts a handler written against EventOf, or against any envelope', () => {
    const typed = async (event: EventOf<typeof schemas>) => {
      expectTypeOf(event.type).toEqualTypeOf<'StockReserved' | 'StockReleased'>();
    };
    const loose = async (event: EventEnvelope) => {
      expectTypeOf(event.payload).toBeUnknown();
    };
    withInbox(typed, { consumerName: 'a', tableName: 't', schemas });
    withInbox(loose, { consumerName: 'b', tableName: 't', schemas });
  });

  it('types the item ctx.get returns as asked, and leaves events untyped without schemas', () => {
    withInbox(
      async (event, ctx) => {
        expectTypeOf(event.payload).toBeUnknown();
        expectTypeOf(
          await ctx.get<{ pk: string; sk: string; count: number }>({ pk: 'a', sk: 'b' }),
        ).toEqualTypeOf<{ pk: string; sk: string; count: number } | undefined>();
      },
      { consumerName: 'c', tableName: 't' },
    );
  });
});
