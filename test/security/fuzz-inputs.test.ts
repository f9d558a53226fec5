// Fuzzing the inputs a user or a server hands the runtime: configs (YAML text and values) and wasm modules (bytes
// and the kafu.meta contract). Seeded and time-bounded; every case must end in a clean refusal (a UserError, whose
// message the CLI prints as one line) or in a working program — never another exception, a hang or a crash.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseDocument, stringify } from 'yaml';
import { UserError } from '../../src/core/errors.js';
import { META_SECTION } from '../../src/core/metadata.js';
import { parseSections, serializeSections } from '../../src/core/wasm-sections.js';
import { parseConfigText } from '../../src/node/config-file.js';
import { buildWasm } from '../support/build.js';
import { fuzz, mutateBytes, mutateJson } from '../support/fuzz-values.js';
import { runMigrating } from '../support/run.js';

const SECONDS = Number(process.env.KAFU_FUZZ_SECONDS ?? 3);

const CONFIG = `name: fuzz
app:
  path: ./main.wasm
  args: ["1", "two"]
  env: { A: b }
  preopened_dir: ./data
  output: first_node
  mounts:
    - { guest: /state, host: "./state/\${node}", mode: follow }
    - { guest: /sensors, host: ./sensors, mode: node-local }
nodes:
  cloud: { address: 127.0.0.1, port: 50051, placement: big }
  edge: { address: edge.local, port: 50052 }
cluster:
  heartbeat: { follower_on_coordinator_lost: ignore, interval_ms: 500 }
  migration: { memory_migration: delta, memory_compression: deflate }
  tls: { ca: ./certs/ca.crt, cert: "./certs/\${node}.crt", key: "./certs/\${node}.key" }
`;

/** A refusal must be a UserError with a message of its own, and never leak a stack trace into it. */
function refusal(e: unknown): 'refused' {
  if (!(e instanceof UserError)) throw e;
  assert.ok(e.message.length > 0);
  assert.doesNotMatch(e.message, /\n\s+at \S+ \(/, 'no stack trace in the message');
  return 'refused';
}

test('config fuzz: mutated YAML text and hostile values are accepted or refused with a UserError', async (t) => {
  assert.ok(parseConfigText(CONFIG, '/srv/kafu-config.yaml').config, 'the seed config is valid');
  const tree = parseDocument(CONFIG).toJS() as unknown;
  const stats = await fuzz('config', 1, SECONDS, (r) => {
    const text = r.chance(0.5) ? new TextDecoder().decode(mutateBytes(r, new TextEncoder().encode(CONFIG))) : stringify(mutateJson(r, tree));
    try {
      parseConfigText(text, '/srv/kafu-config.yaml');
      return 'accepted';
    } catch (e) {
      return refusal(e);
    }
  });
  t.diagnostic(`config fuzz: ${JSON.stringify(stats)}`);
  assert.ok(stats.refused > 0, JSON.stringify(stats));
});

describe_modules();

function describe_modules(): void {
  let wasm = new Uint8Array();
  let dir = '';
  before(async () => {
    wasm = new Uint8Array(await readFile(await buildWasm({ sources: ['examples/basic/main.c'], args: ['-O1'] })));
    dir = await mkdtemp(join(tmpdir(), 'kafu-fuzz-modules-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** Run `bytes` as the program under singlenode (cloud, edge); a hang is a failure. */
  async function run(bytes: Uint8Array, i: number): Promise<'refused' | 'accepted'> {
    const file = join(dir, `m${i}.wasm`);
    await writeFile(file, bytes);
    let timer: NodeJS.Timeout | undefined;
    try {
      const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('hang: no end within 10 s')), 10_000)));
      await Promise.race([runMigrating(file, { nodes: ['cloud', 'edge'] }), hang]);
      return 'accepted';
    } catch (e) {
      return refusal(e);
    } finally {
      clearTimeout(timer);
      await rm(file, { force: true });
    }
  }

  test('module fuzz: mutated bytes and a hostile kafu.meta are refused with a UserError, or run', async (t) => {
    const sections = parseSections(wasm);
    const metaAt = sections.findIndex((s) => s.name === META_SECTION);
    const meta = JSON.parse(new TextDecoder().decode(sections[metaAt]!.payload)) as unknown;
    const withMeta = (payload: Uint8Array) => serializeSections(sections.map((s, i) => (i === metaAt ? { ...s, payload } : s)));
    const stats = await fuzz('module', 2, SECONDS * 2, async (r, i) => {
      const kind = r.int(3);
      if (kind === 0) return run(mutateBytes(r, wasm), i);
      if (kind === 1) return run(withMeta(new TextEncoder().encode(JSON.stringify(mutateJson(r, meta)))), i);
      return run(withMeta(r.pick([new Uint8Array(), new TextEncoder().encode('{'), new TextEncoder().encode('null'), mutateBytes(r, sections[metaAt]!.payload)])), i);
    });
    t.diagnostic(`module fuzz: ${JSON.stringify(stats)}`);
    assert.ok(stats.refused > 0, JSON.stringify(stats));
  });
}
