#!/usr/bin/env node
// The image's HEALTHCHECK: exit 0 when /healthz answers 200 within 3 s. REMEDIATOR_HEALTHCHECK_URL overrides the
// address (a worker serves it on worker.healthPort); the default is the receiver's port.
const url = process.env.REMEDIATOR_HEALTHCHECK_URL || `http://127.0.0.1:${process.env.REMEDIATOR_PORT || 8080}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
