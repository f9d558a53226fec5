// Reading kafu-config.yaml from disk: YAML errors and schema errors become one UserError that names the file,
// the line and the field; relative paths are resolved against the config file's folder.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import { sharedEndpoints, validateConfig, type KafuConfig, type MountConfig, type NnConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';

export interface LoadedConfig {
  file: string;
  config: KafuConfig;
  /** Absolute path of the module, when the config gives app.path. */
  modulePath?: string;
  /** The mounts with host folders made absolute (still holding `${node}` where the config has it). */
  mounts: MountConfig[];
  /** app.nn with model paths made absolute. */
  nn: NnConfig;
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The parser may report one fault more than once (at one place, same words): say each once, at most five.
    const lines = [
      ...new Set(
        doc.errors.map((e) => {
          const pos = lineCounter.linePos(e.pos[0]);
          return `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`;
        }),
      ),
    ];
    const more = lines.length > 5 ? `\n  … and ${lines.length - 5} more` : '';
    throw new UserError(`invalid YAML in config\n  ${lines.slice(0, 5).join('\n  ')}${more}`);
  }
  const nodes = doc.get('nodes');
  const nodeOrder = isMap(nodes) ? nodes.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key))) : [];
  let raw: unknown;
  try {
    // Aliases are expanded here: a handful is plenty for a config, and bounds a "billion laughs" document.
    raw = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    throw new UserError(`invalid YAML in config\n  ${file}: ${(e as Error).message}`);
  }
  const validated = validateConfig(raw ?? {}, nodeOrder);
  const { config } = validated;
  const issues = config ? sharedEndpoints(config.nodes) : validated.issues;
  if (!config || issues.length > 0) {
    const lines = issues.map((i) => {
      // The line of the field itself; of the unknown key; else of the nearest enclosing map that exists.
      let offset: number | undefined;
      if (i.keys?.length) {
        const map = i.path.length ? doc.getIn(i.path, true) : doc.contents;
        const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && String(p.key.value) === i.keys![0]) : undefined;
        offset = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
      }
      for (let n = i.path.length; offset === undefined && n > 0; n--) {
        offset = (doc.getIn(i.path.slice(0, n), true) as { range?: [number] } | undefined)?.range?.[0];
      }
      const line = offset === undefined ? 1 : lineCounter.linePos(offset).line;
      const field = [...i.path, ...(i.keys?.length === 1 ? i.keys : [])].join('.') || '(top level)';
      return `${file}:${line}: ${field}: ${i.message}`;
    });
    throw new UserError(`invalid config\n  ${lines.join('\n  ')}`);
  }
  const dir = dirname(resolve(file));
  return {
    file,
    config,
    modulePath: config.app.path === undefined ? undefined : resolve(dir, config.app.path),
    mounts: config.app.mounts.map((m) => ({ ...m, host: resolve(dir, m.host) })),
    nn: {
      ...config.app.nn,
      models: Object.fromEntries(Object.entries(config.app.nn.models).map(([k, m]) => [k, { ...m, path: resolve(dir, m.path) }])),
    },
  };
}
