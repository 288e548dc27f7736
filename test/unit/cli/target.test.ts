import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { operatorClientConfig } from '../../../lib/cli/target.js';

/** How hard the operator's commands retry an SDK call. */
describe('Function: operatorClientConfig', () => {
  const given = process.env.AWS_MAX_ATTEMPTS;

  beforeEach(() => {
    delete process.env.AWS_MAX_ATTEMPTS;
  });

  afterEach(() => {
    if (given === undefined) delete process.env.AWS_MAX_ATTEMPTS;
    else process.env.AWS_MAX_ATTEMPTS = given;
  });

  it('tries a call 8 times: a throttled send given up on is a letter left for another round', () => {
    expect(operatorClientConfig()).toStrictEqual({ maxAttempts: 8 });
  });

  it('leaves the attempts to AWS_MAX_ATTEMPTS when it is set', () => {
    process.env.AWS_MAX_ATTEMPTS = '2';

    expect(operatorClientConfig()).toStrictEqual({});
  });
});
