import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['eventbox/testing/vitest-setup'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
