#!/usr/bin/env node
// The `remediator` command. The source is TypeScript that Node 24 runs directly (type stripping); npm scripts and
// `npx remediator` put the project's Node 24 (the `node` devDependency) first on PATH.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `remediator needs Node.js 24 or later (this is ${process.version}). Run it through npm (npx remediator …) so the project's Node 24 is used.`,
  );
  process.exit(1);
}
await import('../src/cli/main.ts');
