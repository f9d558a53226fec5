// The models a node holds for wasi-nn: a content-addressed store per node (what programs loaded here or brought
// along), and the named models of the config (app.nn.models) that load_by_name finds on this node.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NnConfig } from '../core/config.js';
import type { ModelStore, NamedModels } from '../wasi/nn/types.js';

export class NodeModelStore implements ModelStore {
  private readonly models = new Map<string, Uint8Array>();

  hash(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  put(id: string, bytes: Uint8Array): void {
    if (!this.models.has(id)) this.models.set(id, bytes.slice());
  }

  get(id: string): Uint8Array | undefined {
    return this.models.get(id);
  }
}

/** Whether the config gives `node` a model called `name`. */
export function namedOn(config: NnConfig, name: string, node: string): boolean {
  const m = Object.hasOwn(config.models, name) ? config.models[name] : undefined;
  return m !== undefined && (m.nodes === undefined || m.nodes.includes(node));
}

/** `config.models` paths are absolute (config-file.ts); `${node}` in one stands for the node id. */
export function namedModels(config: NnConfig, node: string, warn: (message: string) => void): NamedModels {
  return (name) => {
    if (!namedOn(config, name, node)) return undefined;
    const m = config.models[name]!;
    const path = m.path.replaceAll('${node}', node);
    try {
      return readFileSync(path);
    } catch (e) {
      warn(`model ${name}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return undefined;
    }
  };
}
