import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { FAULTS_VARIABLE } from '../../../functions/demo/config.js';
import { injectPutEventsFaults } from '../../../functions/demo/put-events-faults.js';
import { requestText } from '../../helpers/request-body.js';

/** A client whose HTTP layer accepts every entry it is sent and records them. */
function recordingClient() {
  const sent: string[][] = [];
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const entries = (
          JSON.parse(requestText(request.body)) as { Entries: Array<{ Detail: string }> }
        ).Entries;
        sent.push(entries.map((e) => e.Detail));
        const body = JSON.stringify({
          FailedEntryCount: 0,
          Entries: entries.map((e) => ({ EventId: `id-${e.Detail}` })),
        });
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: new Blob([body]).stream(),
          },
        };
      },
    } as never,
  });
  return { client, sent };
}

const entries = ['a', 'b', 'c', 'd'].map((Detail) => ({
  Source: 's',
  DetailType: 't',
  Detail,
  EventBusName: 'b',
}));

describe('Function: injectPutEventsFaults', () => {
  afterEach(() => {
    delete process.env[FAULTS_VARIABLE];
  });

  it('does not send the entries it fails, and answers for every entry in order', async () => {
    // Prepare: the rolls fail "b" for good and "d" retryably
    process.env[FAULTS_VARIABLE] = JSON.stringify({
      putEvents: { throttle: 0.1, retryable: 0.3, nonRetryable: 0.2 },
    });
    const rolls = [0.9, 0.9, 0.1, 0.9, 0.4, 0.2];
    const { client, sent } = recordingClient();
    injectPutEventsFaults(client, () => rolls.shift() ?? 0.9);

    // Act
    const response = await client.send(new PutEventsCommand({ Entries: entries }));

    // Assess
    expect(sent).toStrictEqual([['a', 'c']]);
    expect(response.FailedEntryCount).toBe(2);
    expect(response.Entries).toStrictEqual([
      { EventId: 'id-a' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid (injected)' },
      { EventId: 'id-c' },
      { ErrorCode: 'InternalFailure', ErrorMessage: 'injected' },
    ]);
  });

  it('throttles whole calls', async () => {
    process.env[FAULTS_VARIABLE] = JSON.stringify({ putEvents: { throttle: 1 } });
    const { client, sent } = recordingClient();
    injectPutEventsFaults(client);

    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(sent).toStrictEqual([]);
  });

  it('changes nothing when EVENTBOX_FAULTS is unset', async () => {
    const { client, sent } = recordingClient();
    injectPutEventsFaults(client, () => 0);

    const response = await client.send(new PutEventsCommand({ Entries: entries }));

    expect(sent).toStrictEqual([['a', 'b', 'c', 'd']]);
    expect(response.FailedEntryCount).toBe(0);
  });
});
