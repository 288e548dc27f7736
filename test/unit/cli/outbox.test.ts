import { DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  GetFunctionConfigurationCommand,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { describedTable } from '../../helpers/described-table.js';
import { mockStack, stackMocks, streamArnOf } from '../../helpers/mocked-stack.js';

const ddb = mockClient(DynamoDBDocumentClient);

const described = (indexed: boolean) => describedTable(indexed ? {} : { indexes: [] });
const queriedTables = () =>
  new Set(ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.TableName));
const window = ['--since', '2h', '--until', '1h', '--dry-run', '--json'];

/** `outbox replay` over a stack whose relay reads the box's table and a tenant's table. */
describe('Command: outbox replay', () => {
  beforeEach(() => {
    mockStack();
    ddb.on(DescribeTableCommand).resolves(described(true));
    ddb.on(QueryCommand).resolves({ Items: [] });
  });

  afterEach(() => {
    ddb.reset();
    stackMocks.cfn.reset();
    stackMocks.lambda.reset();
    delete process.env.EVENTBOX_STACK;
  });

  it('replays every table the relay reads, each to its bus', async () => {
    const { code, out } = await cli('outbox', 'replay', ...window);

    expect(code).toBe(0);
    const summary = JSON.parse(out) as {
      tables: Array<{ tableName: string; eventBusName: string; found: number }>;
      refused: unknown[];
    };
    expect(summary.tables.map((t) => [t.tableName, t.eventBusName])).toStrictEqual([
      ['shop-box', 'shop-bus'],
      ['shop-tenant-b', 'shop-bus'],
    ]);
    expect(summary.refused).toStrictEqual([]);
    expect(queriedTables()).toStrictEqual(new Set(['shop-box', 'shop-tenant-b']));
  });

  it('names a table without the by-time index and replays the others, exit 1', async () => {
    ddb.on(DescribeTableCommand, { TableName: 'shop-tenant-b' }).resolves(described(false));

    const { code, out } = await cli('outbox', 'replay', ...window);

    expect(code).toBe(1);
    const summary = JSON.parse(out) as {
      tables: Array<{ tableName: string }>;
      refused: Array<{ tableName: string; reason: string }>;
    };
    expect(summary.tables.map((t) => t.tableName)).toStrictEqual(['shop-box']);
    expect(summary.refused).toStrictEqual([
      {
        tableName: 'shop-tenant-b',
        reason: expect.stringContaining(
          'table shop-tenant-b cannot be replayed: it has no outboxByTime index',
        ),
      },
    ]);
    expect(queriedTables()).toStrictEqual(new Set(['shop-box']));
  });

  it('prints each table and the ones left out', async () => {
    ddb.on(DescribeTableCommand, { TableName: 'shop-tenant-b' }).resolves(described(false));

    const { out } = await cli('outbox', 'replay', '--since', '2h', '--until', '1h', '--dry-run');

    expect(out).toMatch(/TABLE\s+BUS\s+FOUND\s+WOULD PUBLISH\s+FAILED/);
    expect(out).toMatch(/shop-box\s+shop-bus\s+0\s+0\s+0/);
    expect(out).toMatch(/tables not replayed\s+1/);
    expect(out).toContain('not replayed: table shop-tenant-b cannot be replayed');
  });

  it('narrows to one table with --table, and publishes to --bus when given', async () => {
    const { out } = await cli(
      'outbox',
      'replay',
      '--table',
      'shop-tenant-b',
      '--bus',
      'recovery-bus',
      ...window,
    );

    const summary = JSON.parse(out) as {
      tables: Array<{ tableName: string; eventBusName: string }>;
    };
    expect(summary.tables).toMatchObject([
      { tableName: 'shop-tenant-b', eventBusName: 'recovery-bus' },
    ]);
    expect(queriedTables()).toStrictEqual(new Set(['shop-tenant-b']));
  });

  it('refuses a --table no relay of the stack reads, unless --bus says where to publish', async () => {
    const { code, err } = await cli('outbox', 'replay', '--table', 'elsewhere', ...window);

    expect(code).toBe(1);
    expect(err).toBe(
      'eventbox outbox: no relay of the stack reads table elsewhere: give --bus to publish its outbox items',
    );
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('filters every table by tenant', async () => {
    await cli('outbox', 'replay', '--tenant', 'acme', ...window);

    const tenants = ddb
      .commandCalls(QueryCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':tenantId']);
    expect(new Set(tenants)).toStrictEqual(new Set(['acme']));
    expect(queriedTables()).toStrictEqual(new Set(['shop-box', 'shop-tenant-b']));
  });

  it('names a table that does not exist, and replays the others', async () => {
    ddb
      .on(DescribeTableCommand, { TableName: 'shop-tenant-b' })
      .rejects(
        new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }),
      );

    const { code, out } = await cli('outbox', 'replay', ...window);

    expect(code).toBe(1);
    const summary = JSON.parse(out) as { tables: Array<{ tableName: string }>; refused: unknown[] };
    expect(summary.tables.map((t) => t.tableName)).toStrictEqual(['shop-box']);
    expect(summary.refused).toStrictEqual([
      {
        tableName: 'shop-tenant-b',
        reason: 'table shop-tenant-b cannot be replayed: it does not exist',
      },
    ]);
  });

  it("replays a table of the stack whose mapping is gone, to the relay's bus: the outage it repairs", async () => {
    stackMocks.lambda.on(ListEventSourceMappingsCommand, { FunctionName: 'relay-fn' }).resolves({
      EventSourceMappings: [{ EventSourceArn: streamArnOf('shop-tenant-b'), State: 'Enabled' }],
    });

    const { out } = await cli('outbox', 'replay', ...window);

    const summary = JSON.parse(out) as {
      tables: Array<{ tableName: string; eventBusName: string }>;
    };
    expect(summary.tables).toMatchObject([
      { tableName: 'shop-tenant-b', eventBusName: 'shop-bus' },
      { tableName: 'shop-box', eventBusName: 'shop-bus' },
    ]);
  });

  it('refuses a table whose relay names no bus, unless --bus says where', async () => {
    stackMocks.lambda
      .on(GetFunctionConfigurationCommand, { FunctionName: 'relay-fn' })
      .resolves({ Environment: { Variables: {} } });

    const refused = JSON.parse((await cli('outbox', 'replay', ...window)).out) as {
      tables: unknown[];
      refused: Array<{ reason: string }>;
    };
    const given = JSON.parse((await cli('outbox', 'replay', '--bus', 'b', ...window)).out) as {
      tables: unknown[];
    };

    expect(refused.tables).toStrictEqual([]);
    expect(refused.refused[0]?.reason).toBe(
      'table shop-box cannot be replayed: relay eventbox-relay-1 names no bus in its environment; give --bus',
    );
    expect(given.tables).toHaveLength(2);
  });

  it("reads the consumers' inbox window from the stack even with --table and --bus", async () => {
    const { code, err } = await cli(
      'outbox',
      'replay',
      '--table',
      'shop-box',
      '--bus',
      'b',
      '--since',
      '31d',
      '--until',
      '1d',
    );

    expect(code).toBe(1);
    expect(err).toContain("further back than the consumers' inbox remembers (30 days)");
  });
});
