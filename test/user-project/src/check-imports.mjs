// Imports every subpath at run time, as Node resolves them from node_modules.
const subpaths = [
  'eventbox',
  'eventbox/relay',
  'eventbox/consumer',
  'eventbox/jobs',
  'eventbox/cdk',
  'eventbox/testing',
  'eventbox/testing/vitest-setup',
];
for (const subpath of subpaths) {
  const module = await import(subpath);
  console.log(`${subpath}: ${Object.keys(module).length} exports`);
}
