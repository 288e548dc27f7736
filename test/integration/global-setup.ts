import { eventboxGlobalSetup } from '../../lib/testing/vitest-setup.js';

/**
 * The emulators once for the whole integration run, through the same global setup users
 * name in their vitest config; DynamoDB Local as well, for the contract suites.
 */
export default eventboxGlobalSetup({ dynamoDbLocal: true });
