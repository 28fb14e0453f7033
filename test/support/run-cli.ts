import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project's Node 24 and the `remediator` command, for tests that spawn it as a user would. */
export const cliNode = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
export const cliBin = fileURLToPath(new URL('../../bin/remediator.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `remediator …args` to its end and returns its exit code and output (bounded by the tap timeout). The
 * operator and webhook token variables are emptied so the caller's environment does not leak in.
 */
export function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cliNode, [cliBin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REMEDIATOR_OPERATOR_TOKENS: '', REMEDIATOR_WEBHOOK_TOKENS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
