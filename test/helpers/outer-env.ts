declare module 'vitest' {
  export interface ProvidedContext {
    /** The environment the run started with, before any project's setup added to it (vitest.config.ts). */
    outerEnv: Record<string, string>;
  }
}

export {};
