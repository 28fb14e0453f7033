import pkg from '../../package.json' with { type: 'json' };

/** The version in package.json: what `--version`, `remediator_build_info` and the OpenAPI document report. */
export const packageVersion: string = pkg.version;
