// `npm run lint` step: writes the OpenAPI document the receiver serves to a temp file, lints it with Redocly's
// recommended rules (redocly.yaml), removes the file, and exits with Redocly's status.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../src/http/openapi-document.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'remediator-openapi-'));
let status = 1;
try {
  const file = join(dir, 'openapi.json');
  await writeFile(file, `${JSON.stringify(await openApiDocument(), null, 2)}\n`);
  const redocly = join(root, 'node_modules', '.bin', 'redocly');
  // No telemetry or update check: linting must not need the network.
  const run = spawnSync(redocly, ['lint', file, '--config', join(root, 'redocly.yaml')], {
    stdio: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  status = run.status ?? 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(status);
