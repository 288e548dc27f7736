import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  parseEnvelope,
  putEventsEntrySize,
  serializeEnvelope,
} from '../../../lib/envelope/create.js';
import { InvalidEventError } from '../../../lib/envelope/errors.js';
import { ULID_PATTERN } from '../../../lib/envelope/event-id.js';

const now = new Date('2026-01-02T03:04:05.678Z');
const input = {
  type: 'OrderPlaced',
  aggregate: { type: 'Order', id: 'o-1', version: 1 },
  payload: { total: 10 },
};

describe('Function: createEnvelope', () => {
  it('fills id, source, time and defaults', () => {
    // Act
    const envelope = createEnvelope(input, { source: 'orders', now });

    // Assess
    expect(envelope).toStrictEqual({
      id: expect.stringMatching(ULID_PATTERN),
      type: 'OrderPlaced',
      source: 'orders',
      time: '2026-01-02T03:04:05.678Z',
      aggregate: { type: 'Order', id: 'o-1', version: 1 },
      schemaVersion: 1,
      contentType: 'application/json',
      payload: { total: 10 },
    });
  });

  it('keeps the optional fields it is given', () => {
    const envelope = createEnvelope(
      {
        ...input,
        tenantId: 't-1',
        correlationId: 'c-1',
        causationId: 'e-0',
        schemaVersion: 3,
        contentType: 'application/cbor',
      },
      { source: 'orders', now },
    );

    expect(envelope).toMatchObject({
      tenantId: 't-1',
      correlationId: 'c-1',
      causationId: 'e-0',
      schemaVersion: 3,
      contentType: 'application/cbor',
    });
  });

  it('gives ids that sort in creation order within one millisecond', () => {
    const ids = Array.from(
      { length: 50 },
      () => createEnvelope(input, { source: 'orders', now }).id,
    );

    expect([...ids].sort()).toStrictEqual(ids);
    expect(new Set(ids).size).toBe(50);
  });

  it.each([
    [{ ...input, type: '' }, 'type: must not be empty'],
    [
      { ...input, aggregate: { ...input.aggregate, version: 0 } },
      'aggregate.version: must be at least 1',
    ],
    [
      { ...input, aggregate: { ...input.aggregate, version: 1.5 } },
      'aggregate.version: must be an integer',
    ],
    [
      { ...input, aggregate: { ...input.aggregate, version: -2 } },
      'aggregate.version: must be at least 1',
    ],
    [
      { ...input, aggregate: { ...input.aggregate, type: 'Or#der' } },
      'aggregate.type: must not contain "#"',
    ],
    [{ ...input, aggregate: { type: 'Order', version: 1 } }, 'aggregate.id'],
    [{ ...input, payload: undefined }, 'payload: is required'],
    [{ ...input, tenantId: '' }, 'tenantId: must not be empty'],
    [{ ...input, colour: 'red' }, 'colour'],
    [{ ...input, type: 'Order\nPlaced' }, 'type: must not contain control characters'],
  ])('rejects %j with a message naming the field', (bad, problem) => {
    expect(() => createEnvelope(bad as typeof input, { source: 'orders', now })).toThrow(
      expect.objectContaining({
        name: 'InvalidEventError',
        message: expect.stringContaining(problem),
      }),
    );
  });

  it('rejects a source reserved by AWS', () => {
    expect(() => createEnvelope(input, { source: 'aws.orders', now })).toThrow(
      /source: must not start with "aws."/,
    );
  });

  it('lists every problem at once', () => {
    try {
      createEnvelope(
        { type: '', aggregate: { type: '', id: '', version: 0 }, payload: 1 },
        { source: 'orders', now },
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidEventError);
      expect((error as InvalidEventError).problems).toHaveLength(4);
    }
  });
});

describe('Function: serializeEnvelope', () => {
  it('round-trips through parseEnvelope', () => {
    const envelope = createEnvelope(input, { source: 'orders', now });

    expect(parseEnvelope(JSON.parse(serializeEnvelope(envelope)))).toStrictEqual(envelope);
  });

  it.each([
    ['a BigInt', { n: 10n }],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
    ],
    ['NaN', { n: Number.NaN }],
    ['Infinity', { n: Number.POSITIVE_INFINITY }],
  ])('rejects a payload with %s', (_, payload) => {
    const envelope = createEnvelope({ ...input, payload }, { source: 'orders', now });

    expect(() => serializeEnvelope(envelope)).toThrow(InvalidEventError);
  });
});

describe('Function: parseEnvelope', () => {
  it.each([
    ['not an object', 'hello'],
    ['a missing id', { ...createEnvelope(input, { source: 'orders', now }), id: undefined }],
    ['a bad id', { ...createEnvelope(input, { source: 'orders', now }), id: 'not-a-ulid' }],
    ['a bad time', { ...createEnvelope(input, { source: 'orders', now }), time: 'yesterday' }],
  ])('rejects %s', (_, value) => {
    expect(() => parseEnvelope(value)).toThrow(InvalidEventError);
  });
});

describe('Function: putEventsEntrySize', () => {
  it('counts UTF-8 bytes of source, type and detail plus 14 for the time', () => {
    expect(putEventsEntrySize({ source: 'ab', type: 'é' }, '{"x":"€"}')).toBe(14 + 2 + 2 + 11);
  });
});
