/** `remediator demo` — filled in below. */
export async function demoCommand(_opts: { once?: boolean }): Promise<void> {
  console.error('demo: not ready');
  process.exit(1);
}
