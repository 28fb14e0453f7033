/** Virtual time a case covered, to the second, as a report shows it: `20s`, `5m`, `1h2m30s`. */
export function formatVirtualTime(ms: number): string {
  const s = Math.round(ms / 1000);
  const parts = [[Math.floor(s / 3600), 'h'] as const, [Math.floor((s % 3600) / 60), 'm'] as const, [s % 60, 's'] as const];
  return parts.map(([n, unit]) => (n > 0 ? `${n}${unit}` : '')).join('') || '0s';
}
