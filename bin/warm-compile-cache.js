#!/usr/bin/env node
// Fills NODE_COMPILE_CACHE with every module a role loads when `remediator serve` starts: the service and its
// composition root (src/cli/serve.ts imports them), the API and console a receiver builds (src/http/build-app.ts,
// imported only by roles that serve them) and the Kubernetes client, which a worker imports once its config enables
// Kubernetes; and, through `remediator --help` in a child process (it exits when it has printed), the CLI's own
// modules. The image build runs it; so do the benchmarks, to measure what ships.
// A module missing from the cache is type-stripped when first imported, and the stripper, once loaded, stays in the
// process: about 17 MiB more RSS for the life of a receiver. In the chart the root filesystem is read-only, so the
// cache cannot be filled at run time.
import { execFileSync } from 'node:child_process';

if (!process.env.NODE_COMPILE_CACHE) {
  console.error('warm-compile-cache: NODE_COMPILE_CACHE is not set; nothing to fill');
  process.exit(2);
}
execFileSync(process.execPath, [new URL('./remediator.js', import.meta.url).pathname, '--help'], { stdio: 'ignore' });
await import('../src/cli/serve.ts');
await import('../src/http/build-app.ts');
await import('../src/kube/client-node-cluster.ts');
