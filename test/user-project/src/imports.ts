/** Every subpath of the package, used as a user would: type-checked against the published types. */
import { add, EventBox, type EventEnvelope, VersionConflictError } from 'eventbox';
import { EventBox as EventBoxConstruct, EventBoxConsumer } from 'eventbox/cdk';
import { type EventOf, withInbox } from 'eventbox/consumer';
import { defineJob, JobClient, startJob } from 'eventbox/jobs';
import { createRelayHandler } from 'eventbox/relay';
import { deployApp, sqsEventOf, startEmulator } from 'eventbox/testing';
import globalSetup, { eventboxGlobalSetup } from 'eventbox/testing/vitest-setup';
import type { stockEvents } from '../functions/events.js';

export const used = [
  add,
  EventBox,
  VersionConflictError,
  EventBoxConstruct,
  EventBoxConsumer,
  withInbox,
  createRelayHandler,
  defineJob,
  JobClient,
  startJob,
  deployApp,
  sqsEventOf,
  startEmulator,
  globalSetup,
  eventboxGlobalSetup,
];

export function quantityOf(event: EventOf<typeof stockEvents>): number {
  return event.payload.quantity;
}

export function typeOf(event: EventEnvelope): string {
  return event.type;
}
