export { ensureMinistackInstalled, MINISTACK_VERSION } from '../emulator/ministack.js';
export { eventboxDirs, findProjectRoot } from '../emulator/paths.js';
export { PrerequisiteError } from '../emulator/prerequisites.js';
export {
  clientConfigFor,
  type DynamoDbEngine,
  EMULATOR_ACCOUNT,
  type Emulator,
  type EmulatorClientConfig,
  emulatorEnvironment,
  type StartEmulatorOptions,
  startEmulator,
} from '../emulator/start.js';
export { type ParsedDeadLetter, parseDeadLetter, reasonKind } from '../shared/dead-letters.js';
export {
  envelope,
  eventBridgeEventOf,
  lambdaContext,
  outboxItemOf,
  outboxRecordOf,
  type SqsRecordOptions,
  type StreamRecordOptions,
  sqsEventOf,
  sqsRecordOf,
  streamEventOf,
  streamRecordOf,
} from './builders.js';
export { DeployError, type Deployment, type DeployOptions, deployApp } from './deploy.js';
export {
  type MemoryCommit,
  MemoryJobStore,
  type MemoryJobStoreOptions,
} from './memory-job-store.js';
export {
  drainQueue,
  NotQuietError,
  peekQueue,
  queueDepth,
  type WaitUntilQuietOptions,
  waitUntilQuiet,
} from './queues.js';
export {
  type AppliedEvent,
  readDeadLetters,
  readInbox,
  scanPrefix,
} from './state.js';
