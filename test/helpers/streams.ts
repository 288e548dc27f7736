import { setTimeout as sleep } from 'node:timers/promises';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { clientConfig } from './aws.js';

/**
 * Reads every record of a table's stream from the start of each shard (parents first),
 * polling until `until` is satisfied or the timeout passes.
 */
export async function readStream(
  endpoint: string,
  streamArn: string,
  until: (records: _Record[]) => boolean,
  timeoutMs = 30_000,
): Promise<_Record[]> {
  const client = new DynamoDBStreamsClient(clientConfig(endpoint));
  const deadline = Date.now() + timeoutMs;
  const iterators = new Map<string, string | undefined>();
  const records: _Record[] = [];
  while (Date.now() < deadline) {
    const description = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of description.StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      iterators.set(shard.ShardId, ShardIterator);
    }
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []));
      iterators.set(shardId, page.NextShardIterator);
    }
    if (until(records)) return records;
    await sleep(250);
  }
  return records;
}
