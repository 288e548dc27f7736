export { lambdaContext } from '../../lib/testing/builders.js';
