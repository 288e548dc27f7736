import type { IConstruct } from 'constructs';

/**
 * Whether the app is being deployed to the local emulator: the context
 * `eventbox:emulator=true` (which `eventbox/testing`'s `deployApp` passes), or the variable
 * `EVENTBOX_EMULATOR=true` (which `npx eventbox emulator` prints). The constructs then leave
 * out the resource types the emulator's CloudFormation lacks, and nothing else.
 */
export function deploysToEmulator(scope: IConstruct): boolean {
  const context = scope.node.tryGetContext('eventbox:emulator');
  if (context !== undefined) return context === true || context === 'true';
  return process.env.EVENTBOX_EMULATOR === 'true';
}
