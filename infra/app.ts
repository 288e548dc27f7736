import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { exampleFromContext } from './example/app-props.js';
import { ExampleStack } from './example/example-stack.js';
import { acknowledgeAcceptedFindings } from './example/nag-suppressions.js';

/** The example app, checked by cdk-nag; its context settings are in `example/app-props.ts`. */
const app = new App();
const { stackName, props } = exampleFromContext(app);
const stack = new ExampleStack(app, stackName, props);
acknowledgeAcceptedFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
