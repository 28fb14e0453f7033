import { ConfigSchema } from './config-schema.ts';
import { defaultConfig } from './load-config.ts';

/**
 * Renders `config/default.yaml` from the config schema: every key, its description as a comment and its default
 * value (optional keys commented out). A test checks the shipped file equals this output, so the documentation
 * cannot drift from the code. Regenerate with `npm run config:defaults`.
 */
export function renderDefaultConfig(): string {
  const lines: string[] = [
    '# remediator configuration: every key with its default. Generated from src/config/config-schema.ts (npm run config:defaults).',
    '# Secrets and addresses are better set by environment (REDIS_URL, REMEDIATOR_WEBHOOK_TOKENS, REMEDIATOR_OPERATOR_TOKENS,',
    '# PROMETHEUS_URL, ALERTMANAGER_URL, …; see README). Use: remediator serve --config my-config.yaml',
    '',
  ];
  walk(ConfigSchema, defaultConfig(), '', lines, false);
  return `${lines.join('\n')}\n`;
}

/** The parts of a JSON Schema node the rendering reads. */
interface SchemaNode {
  description?: string;
  type?: string;
  properties?: Record<string, SchemaNode>;
  anyOf?: SchemaNode[];
}

function describe(s: SchemaNode | undefined): string | undefined {
  return s?.description ?? s?.anyOf?.[0]?.description;
}

function walk(schema: SchemaNode, value: unknown, indent: string, lines: string[], commented: boolean): void {
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const d = describe(sub);
    if (d) lines.push(`${indent}# ${d}`);
    const v = (value as Record<string, unknown> | undefined)?.[key];
    const off = commented || v === undefined ? '# ' : '';
    if (sub.type === 'object' && sub.properties) {
      lines.push(`${indent}${off}${key}:`);
      walk(sub, v, `${indent}  `, lines, commented || v === undefined);
    } else {
      lines.push(`${indent}${off}${key}: ${v === undefined ? '' : JSON.stringify(v)}`.trimEnd());
    }
  }
}
