import { add, addToSet, inboxOptionsFromEnvironment, withInbox } from 'eventbox/consumer';
import { stockEvents } from './events.js';

/** Reserves stock for every order once: an atomic counter, no read, no version guard. */
export const handler = withInbox(
  async (event, { tx }) => {
    switch (event.type) {
      case 'OrderPlaced':
        tx.update(
          { pk: `STOCK#${event.payload.sku}`, sk: 'STOCK' },
          { reserved: add(event.payload.quantity), orders: addToSet([event.payload.orderId]) },
        );
        return;
    }
  },
  { ...inboxOptionsFromEnvironment(), schemas: stockEvents },
);
