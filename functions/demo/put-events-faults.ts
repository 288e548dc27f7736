import type {
  EventBridgeClient,
  PutEventsCommandInput,
  PutEventsCommandOutput,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { currentFaults } from './config.js';

/**
 * Makes an EventBridge client fail PutEvents as the service can: whole calls throttled,
 * entries failed with retryable codes or rejected for good. Failed entries are not sent,
 * so they are really unpublished, as with the service.
 */
export function injectPutEventsFaults(
  client: EventBridgeClient,
  random: () => number = Math.random,
): EventBridgeClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutEventsCommand') return next(args);
      const faults = currentFaults().putEvents;
      if (random() < faults.throttle) {
        throw Object.assign(new Error('Rate exceeded (injected)'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          $retryable: { throttling: true },
        });
      }
      const input = args.input as PutEventsCommandInput;
      const entries = input.Entries ?? [];
      const fates: Array<PutEventsResultEntry | undefined> = entries.map(() => {
        const roll = random();
        if (roll < faults.nonRetryable)
          return {
            ErrorCode: 'InvalidArgument',
            ErrorMessage: 'Parameter Detail is not valid (injected)',
          };
        if (roll < faults.nonRetryable + faults.retryable) {
          return random() < 0.5
            ? { ErrorCode: 'InternalFailure', ErrorMessage: 'injected' }
            : { ErrorCode: 'ThrottlingException', ErrorMessage: 'injected' };
        }
        return undefined;
      });
      const sent = entries.filter((_, i) => fates[i] === undefined);
      let results: PutEventsResultEntry[] = [];
      let output: PutEventsCommandOutput | undefined;
      if (sent.length > 0) {
        const result = await next({ ...args, input: { ...input, Entries: sent } });
        output = result.output as PutEventsCommandOutput;
        results = output.Entries ?? [];
      }
      const merged = fates.map(
        (fate) => fate ?? results.shift() ?? { ErrorCode: 'InternalFailure' },
      );
      return {
        response: undefined,
        output: {
          ...(output ?? { $metadata: {} }),
          FailedEntryCount: merged.filter((e) => e.ErrorCode).length,
          Entries: merged,
        },
      } as never;
    },
    { step: 'initialize', name: 'injectPutEventsFaults' },
  );
  return client;
}
