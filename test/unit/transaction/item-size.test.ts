import { describe, expect, it } from 'vitest';
import { itemSize } from '../../../lib/transaction/item-size.js';

describe('Function: itemSize', () => {
  it.each([
    ['a string (UTF-8 bytes)', { s: 'é€' }, 1 + 5],
    ['a number (a byte per two digits, plus one)', { n: 12345 }, 1 + 4],
    ['a number with trailing zeros', { n: 1000 }, 1 + 2],
    ['a boolean and a null', { b: true, z: null }, 1 + 1 + 1 + 1],
    ['binary', { bin: new Uint8Array(10) }, 3 + 10],
    ['a list (3 + 1 per element)', { l: ['ab', 'c'] }, 1 + 3 + 1 + 2 + 1 + 1],
    ['a map (3 + name and 1 per element)', { m: { ab: 'c' } }, 1 + 3 + 1 + 2 + 1],
    ['a string set', { ss: new Set(['a', 'bc']) }, 2 + 3],
    ['undefined attributes (dropped)', { a: 'x', u: undefined }, 2],
  ])('sizes %s', (_, item, expected) => {
    expect(itemSize(item)).toBe(expected);
  });
});
