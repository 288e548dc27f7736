import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';

/**
 * Collects `#name` and `:value` placeholders for one action's expressions, so user values
 * never become part of an expression string.
 */
export class ExpressionAttributes {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, NativeAttributeValue> = {};
  readonly #nameByAttribute = new Map<string, string>();
  #valueCount = 0;

  name(attribute: string): string {
    let placeholder = this.#nameByAttribute.get(attribute);
    if (placeholder === undefined) {
      placeholder = `#n${this.#nameByAttribute.size}`;
      this.#nameByAttribute.set(attribute, placeholder);
      this.names[placeholder] = attribute;
    }
    return placeholder;
  }

  value(value: NativeAttributeValue): string {
    const placeholder = `:v${this.#valueCount++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The `ExpressionAttributeNames`/`Values` fields, omitting empty ones as DynamoDB requires. */
  toParams(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, NativeAttributeValue>;
  } {
    return {
      ...(Object.keys(this.names).length > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(this.#valueCount > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}
