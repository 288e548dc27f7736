import { fileURLToPath } from 'node:url';
import { App, Duration } from 'aws-cdk-lib';
import { exampleFromContext } from '../example/app-props.js';
import { type ExampleOverrides, ExampleStack } from '../example/example-stack.js';

const demoEntry = (name: string) =>
  fileURLToPath(new URL(`../../functions/demo/${name}.ts`, import.meta.url));

/**
 * The example's relay, user-score consumer, job runner and dispatcher swapped for the
 * fault-injecting ones of `functions/demo/`, which fail as EVENTBOX_FAULTS says; with short
 * timeouts so that redeliveries come quickly.
 */
export const faultInjecting: ExampleOverrides = {
  relay: { entry: demoEntry('relay') },
  userScore: {
    entry: demoEntry('user-score'),
    timeout: Duration.seconds(5),
    notYetBackoff: { baseSeconds: 1, capSeconds: 20 },
    // Events behind an injected poison event wait about as long as ten short rounds.
    notYetMaxWait: Duration.minutes(2),
  },
  fulfilment: {
    entry: demoEntry('job-runner'),
    timeout: Duration.seconds(5),
    dispatcherEntry: demoEntry('dispatcher'),
    dispatcherTimeout: Duration.seconds(5),
  },
};

/** The app the soak and the operations test deploy: the example with `faultInjecting`. */
const app = new App();
const { stackName, props } = exampleFromContext(app);
new ExampleStack(app, stackName, { ...props, overrides: faultInjecting });
