import { readFileSync } from 'node:fs';

/**
 * The Lua source of `correlate(KEYS, ARGV)`, the fleet count of one (playbook, namespace) (src/store/lua/fleet-correlate.lua;
 * its semantics: src/guards/fleet-correlator.ts). A definition, not a script: FleetCorrelator runs it alone, and the
 * ingest script (src/store/lua/ingest-firing.lua) runs it for each fleet group of a notification before recording it.
 */
export const FLEET_CORRELATE_FUNCTION = readFileSync(new URL('./lua/fleet-correlate.lua', import.meta.url), 'utf8');
