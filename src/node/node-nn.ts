// wasi-nn on a Node node: the ONNX Runtime backend and, per node id, the models it holds and the named models of
// the config. One per process (singlenode runs every node in one process, each with its own store, so that what
// a hop carries is what it would carry between machines); each stretch of the program gets an NnHost over it.
import type { NnConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Snapshot } from '../core/snapshot.js';
import { NnHost } from '../wasi/nn/host.js';
import { withEveryModel } from '../wasi/nn/nn-os.js';
import type { NnBackend } from '../wasi/nn/types.js';
import { decodeImage } from './image-decode.js';
import { namedModels, namedOn, NodeModelStore } from './nn-models.js';
import { OnnxBackend } from './onnx-backend.js';

export const NO_NN_CONFIG: NnConfig = { models: {}, gpu_fallback: 'error' };

export class NodeNn {
  private readonly stores = new Map<string, NodeModelStore>();
  readonly backend: NnBackend & { close(): Promise<void> };

  constructor(
    private readonly config: NnConfig,
    private readonly log: Pick<Logger, 'warn' | 'debug'>,
  ) {
    this.backend = new OnnxBackend({
      gpuFallback: config.gpu_fallback,
      warn: (m) => log.warn(m),
      thread: process.env['KAFU_NN_THREAD'] === 'helper' ? 'helper' : 'direct',
    });
  }

  /**
   * `snapshot`, taken on `node`, made to carry every wasi-nn model its graphs use (under `resource`, its key among
   * the snapshot's resources): a whole snapshot — saved, a checkpoint handed on, or re-sent to a node that lost its
   * models — must resume where no model is left.
   */
  selfContained(snapshot: Snapshot, node: string, resource: string): Snapshot {
    const raw = snapshot.header.resources[resource];
    const store = this.stores.get(node);
    if (raw === undefined || !store) return snapshot;
    const blobs = [...snapshot.blobs];
    const nn = withEveryModel(raw, blobs, store);
    return { ...snapshot, header: { ...snapshot.header, resources: { ...snapshot.header.resources, [resource]: nn } }, blobs };
  }

  /** A host for one stretch of the program on `node`; `readFile` reads the program's files (WasiHost.readFile). */
  host(node: string, readFile: (path: string, maxBytes: number) => Uint8Array): NnHost {
    let store = this.stores.get(node);
    if (!store) this.stores.set(node, (store = new NodeModelStore()));
    return new NnHost({
      node,
      backend: this.backend,
      store,
      named: namedModels(this.config, node, (m) => this.log.warn(m)),
      namedOn: (name, on) => namedOn(this.config, name, on),
      helper: { readFile, decodeImage },
      // What the node cannot do (no CUDA, a failing model) is the operator's business; a program's own mistakes
      // and probes (a name not on this node) are the program's, and it sees the code.
      log: (errno, m) =>
        (errno === 'unsupported_operation' || errno === 'runtime_error' ? this.log.warn : this.log.debug)(`wasi-nn on ${node}: ${m}`),
    });
  }
}
