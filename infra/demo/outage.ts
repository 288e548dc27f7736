import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  type LambdaClient,
  paginateListEventSourceMappings,
} from '@aws-sdk/client-lambda';
import type { EventEnvelope } from '../../lib/producer/index.js';
import { invoke } from './workload.js';

/**
 * A relay outage longer than the stream keeps records, on any endpoint: the relay's
 * mapping of the table is deleted, `during` writes events, and the mapping is created
 * again from the stream's newest record (LATEST), as the settings were. What was written
 * meanwhile never reaches the relay, as records past the stream's 24 hours would not.
 */
export async function relayOutage(
  lambda: LambdaClient,
  relayFunction: string,
  tableName: string,
  during: () => Promise<EventEnvelope[]>,
): Promise<EventEnvelope[]> {
  let uuid: string | undefined;
  for await (const page of paginateListEventSourceMappings(
    { client: lambda },
    { FunctionName: relayFunction },
  ))
    uuid ??= page.EventSourceMappings?.find((m) =>
      m.EventSourceArn?.includes(`:table/${tableName}/stream/`),
    )?.UUID;
  if (!uuid) throw new Error(`no stream mapping of ${relayFunction} reads ${tableName}`);
  const m = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
  await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
  for (let i = 0; i < 60; i++) {
    const gone = await lambda
      .send(new GetEventSourceMappingCommand({ UUID: uuid }))
      .then(() => false)
      .catch(() => true);
    if (gone) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const events = await during();
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: relayFunction,
      EventSourceArn: m.EventSourceArn,
      StartingPosition: 'LATEST',
      BatchSize: m.BatchSize,
      MaximumBatchingWindowInSeconds: m.MaximumBatchingWindowInSeconds,
      ParallelizationFactor: m.ParallelizationFactor,
      BisectBatchOnFunctionError: m.BisectBatchOnFunctionError,
      MaximumRetryAttempts: m.MaximumRetryAttempts,
      MaximumRecordAgeInSeconds: m.MaximumRecordAgeInSeconds,
      FunctionResponseTypes: m.FunctionResponseTypes,
      DestinationConfig: m.DestinationConfig,
      FilterCriteria: m.FilterCriteria,
    }),
  );
  return events;
}

/**
 * Business during the outage: each of `users` renamed, and an order placed and paid, so
 * that both consumers and the fulfilment jobs have events to miss.
 */
export async function outageBusiness(
  lambda: LambdaClient,
  ordersFunction: string,
  users: readonly string[],
  tag: string,
): Promise<EventEnvelope[]> {
  const rounds = [
    users.flatMap((userId) => [
      { command: 'renameUser' as const, userId, name: `Renamed during the outage ${tag}` },
      { command: 'placeOrder' as const, orderId: `${userId}-outage-${tag}`, userId, amount: 7 },
    ]),
    users.map((userId) => ({ command: 'payOrder' as const, orderId: `${userId}-outage-${tag}` })),
  ];
  const events: EventEnvelope[] = [];
  for (const commands of rounds)
    for (const result of await invoke(lambda, ordersFunction, commands))
      events.push(...(result.events ?? []));
  return events;
}
