import { readFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config, type RawConfig } from './config-schema.ts';
import { ENV_OVERRIDES } from './env-overrides.ts';
import { credentialProblems } from './credential-problems.ts';
import { RemediatorError } from '../domain/errors.ts';
import { YamlSource, formatProblem, type SourceProblem } from '../schema/yaml-source.ts';
import { createAjv, describeErrors, sourceProblems } from '../schema/validator.ts';

const validate = createAjv().compile(ConfigSchema);

export interface LoadConfigOptions {
  /** A YAML file; without one, the built-in defaults (the same as config/default.yaml). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last (tests, the demo). */
  overrides?: (config: RawConfig) => void;
}

/**
 * Reads, merges and checks the configuration once at start-up. Invalid configuration stops start-up with one line
 * per problem naming the file position (for file values) or the environment variable, the key and what is wrong.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  let raw: RawConfig = {};
  let source: YamlSource | undefined;
  if (options.file) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      throw new RemediatorError('REM_ERR_CONFIG_INVALID', `cannot read config file ${options.file}: ${(err as Error).message}`);
    }
    source = new YamlSource(options.file, text);
    if (source.problems.length > 0) throw configError(source.problems.map(formatProblem));
    if (source.value !== null && source.value !== undefined && (typeof source.value !== 'object' || Array.isArray(source.value))) {
      throw configError([`${options.file}:1:1: the config must be a mapping of keys`]);
    }
    raw = (source.value as RawConfig | null) ?? {};
  }

  // First check the file as written, so its errors point at lines; then apply the environment and check again.
  if (source && !validate(structuredClone(raw))) {
    throw configError(sourceProblems(source, validate.errors).map(formatProblem));
  }
  const merged = structuredClone(raw);
  const fromEnv: string[] = [];
  const envProblems: string[] = [];
  for (const o of ENV_OVERRIDES) {
    const value = env[o.env];
    if (value !== undefined && value !== '') {
      envProblems.push(...(o.problems?.(value) ?? []));
      o.apply(merged, value);
      fromEnv.push(`${o.env} (${o.key})`);
    }
  }
  if (envProblems.length > 0) throw configError(envProblems);
  options.overrides?.(merged);
  if (!validate(merged)) {
    throw configError(
      describeErrors(validate.errors).map((line) => `${line}${fromEnv.length ? ` [environment: ${fromEnv.join(', ')}]` : ''}`),
    );
  }
  const config = merged as Config;
  const clashes = credentialProblems(config.auth);
  if (clashes.length > 0) throw configError(clashes);
  return config;
}

/** The configuration with nothing set: every default. */
export function defaultConfig(): Config {
  const value = Value.Default(ConfigSchema, {});
  validate(value);
  return value as Config;
}

function configError(lines: string[]): RemediatorError {
  return new RemediatorError('REM_ERR_CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, { details: { problems: lines } });
}

export type { SourceProblem };
