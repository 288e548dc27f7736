import { describe, expect, inject, it } from 'vitest';
import { deployExample } from '../../infra/demo/deploy.js';
import { runDemo } from '../../infra/demo/run.js';

/**
 * The example app deployed with the CDK CLI to the emulator, which runs the real Lambda
 * handlers: events the orders service writes are applied by the user-score service.
 */
describe('Example app, deployed with the CDK CLI', () => {
  it('applies every event the orders service writes, once, with the scores of in-order delivery', async () => {
    // Prepare
    const target = inject('eventbox');
    const outputs = await deployExample({ target, stackName: 'EventboxE2E' });

    // Act
    const summary = await runDemo({ target, outputs, operations: 60, seed: 11 });

    // Assess
    expect(summary.eventsWritten).toBeGreaterThan(0);
    expect(summary.eventsPublished).toBe(summary.eventsWritten);
    expect(summary.applied).toBe(summary.eventsForUserScore);
    expect(summary).toMatchObject({
      lost: 0,
      appliedTwice: 0,
      deadLettered: 0,
      scoresMatchInOrderReplay: true,
    });
  }, 600_000);
});
