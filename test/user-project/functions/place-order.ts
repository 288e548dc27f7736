import { EventBox } from 'eventbox';

const box = new EventBox({ tableName: process.env.TABLE_NAME ?? '', source: 'shop' });

/** Places an order and publishes OrderPlaced in one transaction. */
export async function handler(input: { orderId: string; sku: string; quantity: number }) {
  const tx = box.transaction();
  tx.put({ pk: `ORDER#${input.orderId}`, sk: 'ORDER', ...input }, { expectedVersion: 0 });
  const event = tx.publish({
    type: 'OrderPlaced',
    aggregate: { type: 'Order', id: input.orderId, version: 1 },
    payload: input,
  });
  await tx.commit();
  return { eventId: event.id };
}
