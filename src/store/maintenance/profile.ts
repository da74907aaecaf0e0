/**
 * Autovacuum profiles (tuning/autovacuum/*.conf): server settings plus `#@table` per-table storage
 * parameters, parsed and validated (names from the allow-lists, values plain numbers/booleans),
 * and turned into the ALTER TABLE statements of the autovacuum step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EsbenchError } from '../../core/errors.ts';
import { isOneOf, MAINTAINED_TABLES, TABLE_PARAMETERS, type MaintainedTable, type TableParameter } from './targets.ts';

export interface AutovacuumProfile {
  name: string;
  /** Server settings (postgresql.conf lines), as written. */
  server: Record<string, string>;
  /** Per-table storage parameters from `#@table <table> <param> = <value>` lines. */
  tables: Partial<Record<MaintainedTable, Partial<Record<TableParameter, string>>>>;
}

const SETTING_NAME = /^[a-z_][a-z0-9_]*$/;
const TABLE_VALUE = /^(-?\d+(\.\d+)?|on|off|true|false)$/;

/** Parses the profile format documented in tuning/autovacuum/postgres-defaults.conf. */
export function parseAutovacuumProfile(text: string, name: string): AutovacuumProfile {
  const profile: AutovacuumProfile = { name, server: {}, tables: {} };
  text.split('\n').forEach((raw, i) => {
    const where = `${name}:${i + 1}`;
    const line = raw.trim();
    const table = /^#@table\s+(\S+)\s+(\S+)\s*=\s*(\S+)\s*$/.exec(line);
    if (table) {
      const [, tableName = '', param = '', value = ''] = table;
      if (!isOneOf(MAINTAINED_TABLES, tableName))
        throw new EsbenchError(
          'BAD_CONFIG',
          `${where}: table '${tableName}' is not one of ${MAINTAINED_TABLES.join(', ')}`,
        );
      if (!isOneOf(TABLE_PARAMETERS, param))
        throw new EsbenchError('BAD_CONFIG', `${where}: '${param}' is not a storage parameter esbench sets`);
      if (!TABLE_VALUE.test(value))
        throw new EsbenchError('BAD_CONFIG', `${where}: value '${value}' of ${param} must be a number or on/off`);
      (profile.tables[tableName] ??= {})[param] = value;
      return;
    }
    // A malformed directive must not pass as a comment: the setting would silently not apply.
    if (line.startsWith('#@'))
      throw new EsbenchError('BAD_CONFIG', `${where}: expected '#@table <table> <parameter> = <value>', got '${line}'`);
    if (line === '' || line.startsWith('#')) return;
    const m = /^([^=\s]+)\s*=\s*('[^']*'|[^#\s]+)\s*(#.*)?$/.exec(line);
    if (!m || !SETTING_NAME.test(m[1] ?? ''))
      throw new EsbenchError('BAD_CONFIG', `${where}: expected 'name = value', got '${line}'`);
    profile.server[m[1]!] = m[2]!;
  });
  return profile;
}

export function loadAutovacuumProfile(file: string): AutovacuumProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EsbenchError('BAD_CONFIG', `cannot read autovacuum profile ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseAutovacuumProfile(text, path.basename(file));
}

/** The profile `maintain` applies unless told otherwise: the study's final per-table settings. */
export function defaultProfileFile(tuningDir: string): string {
  return path.join(tuningDir, 'autovacuum', 'seed003-per-table.conf');
}

/**
 * ALTER TABLE statements for a profile's per-table settings. events is always covered: a profile
 * without lines for it RESETs its parameters (so sweeping profiles never inherits the previous one's);
 * other tables are touched only when the profile names them.
 */
export function tableSettingsSql(profile: AutovacuumProfile): string[] {
  return MAINTAINED_TABLES.filter((t) => t === 'events' || profile.tables[t] !== undefined).map((t) => {
    const params = profile.tables[t];
    const entries = params
      ? TABLE_PARAMETERS.filter((p) => params[p] !== undefined).map((p) => `${p} = ${params[p]}`)
      : [];
    return entries.length > 0
      ? `ALTER TABLE ${t} SET (${entries.join(', ')})`
      : `ALTER TABLE ${t} RESET (${TABLE_PARAMETERS.join(', ')})`;
  });
}
