import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { OutboxItem } from '../../lib/envelope/outbox-item.js';

/**
 * A DescribeTable answer for a relayed table: string keys (`pk`/`sk` unless told), the
 * by-time index (ACTIVE unless `indexes` says otherwise), and, with `streamArn`, a
 * new-and-old-images stream; `table` overrides any of it.
 */
export function describedTable(
  options: {
    readonly keys?: readonly [string, string];
    readonly indexes?: NonNullable<TableDescription['GlobalSecondaryIndexes']>;
    readonly streamArn?: string;
    readonly table?: Partial<TableDescription>;
  } = {},
): { Table: TableDescription } {
  const [hash, range] = options.keys ?? ['pk', 'sk'];
  return {
    Table: {
      KeySchema: [
        { AttributeName: hash, KeyType: 'HASH' },
        { AttributeName: range, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: options.indexes ?? [
        { IndexName: OutboxItem.byTimeIndex, IndexStatus: 'ACTIVE' },
      ],
      ...(options.streamArn
        ? {
            StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
            LatestStreamArn: options.streamArn,
          }
        : {}),
      ...options.table,
    },
  };
}
