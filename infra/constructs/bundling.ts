import { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { METRICS_NAMESPACE } from '../../lib/shared/metrics-namespace.js';

/**
 * How Eventbox functions are built: ESM, minified, with the AWS SDK bundled rather than
 * taken from the runtime, so every function runs the SDK version it was tested with.
 */
export const eventboxBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  // The runtime's version: esbuild keeps what it runs natively.
  target: 'node24',
  minify: true,
  sourceMap: true,
  externalModules: [],
  // The ES module builds of the SDK and its dependencies, which esbuild can tree-shake:
  // the relay's bundle is 28 % smaller than from their CommonJS builds.
  mainFields: ['module', 'main'],
  // Bundled CommonJS dependencies call require(); ESM output has none without this.
  banner:
    "import { createRequire as __eventboxCreateRequire } from 'node:module'; const require = __eventboxCreateRequire(import.meta.url);",
};

/**
 * The defaults every Eventbox function shares. The log format stays text: Powertools writes
 * JSON lines itself, and Lambda's JSON format would wrap the EMF metric lines.
 */
export const eventboxFunctionDefaults = {
  runtime: Runtime.NODEJS_24_X,
  architecture: Architecture.ARM_64,
  bundling: eventboxBundling,
  environment: {
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  },
} as const;

export const DEFAULT_RELAY_TIMEOUT = Duration.seconds(60);
