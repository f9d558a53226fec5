// Reading kafu-config.yaml from disk: YAML errors and schema errors become one UserError that names the file,
// the line and the field; relative paths are resolved against the config file's folder.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import { validateConfig, type KafuConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';

export interface LoadedConfig {
  file: string;
  config: KafuConfig;
  /** Absolute path of the module, when the config gives app.path. */
  modulePath?: string;
  /** Absolute host folder preopened as the guest's "/", when app.preopened_dir is given. */
  preopenedDir?: string;
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
    const lines = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`;
    });
    throw new UserError(`invalid YAML in config\n  ${lines.join('\n  ')}`);
  }
  const nodes = doc.get('nodes');
  const nodeOrder = isMap(nodes) ? nodes.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key))) : [];
  const { config, issues } = validateConfig(doc.toJS() ?? {}, nodeOrder);
  if (!config) {
    const lines = issues.map((i) => {
      const node = i.path.length ? (doc.getIn(i.path, true) as { range?: [number, number, number] } | undefined) : undefined;
      const parent = i.path.length > 1 ? (doc.getIn(i.path.slice(0, -1), true) as { range?: [number] } | undefined) : undefined;
      const offset = node?.range?.[0] ?? parent?.range?.[0];
      const where = offset === undefined ? file : `${file}:${lineCounter.linePos(offset).line}`;
      const field = i.path.length ? i.path.join('.') : '(top level)';
      return `${where}: ${field}: ${i.message}`;
    });
    throw new UserError(`invalid config\n  ${lines.join('\n  ')}`);
  }
  const dir = dirname(resolve(file));
  return {
    file,
    config,
    modulePath: config.app.path === undefined ? undefined : resolve(dir, config.app.path),
    preopenedDir: config.app.preopenedDir === undefined ? undefined : resolve(dir, config.app.preopenedDir),
  };
}
