import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Size of an item as DynamoDB counts it against the 400 KB limit: attribute names plus values.
 * Strings and binaries count their bytes, numbers about one byte per two significant digits
 * plus one, booleans and nulls one byte, lists and maps three bytes plus one per element.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSize(item: Readonly<Record<string, NativeAttributeValue>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += utf8(name) + valueSize(value);
  }
  return size;
}

function valueSize(value: NativeAttributeValue): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(String(value));
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return value.byteLength;
  if (value instanceof Set) {
    let size = 0;
    for (const member of value) size += valueSize(member);
    return size;
  }
  if (Array.isArray(value)) {
    let size = 3;
    for (const element of value) size += 1 + (element === undefined ? 0 : valueSize(element));
    return size;
  }
  if (typeof value === 'object') {
    // lib-dynamodb's NumberValue keeps the exact text of a number.
    if ('value' in value && Object.keys(value).length === 1 && typeof value.value === 'string') {
      return numberSize(value.value);
    }
    let size = 3;
    for (const [name, member] of Object.entries(value)) {
      if (member === undefined) continue;
      size += 1 + utf8(name) + valueSize(member as NativeAttributeValue);
    }
    return size;
  }
  return 0;
}

function numberSize(text: string): number {
  const digits = text
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
