// app.url: the module is fetched over HTTP (a server on loopback), and a bad URL is a clear error.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UserError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { fetchModule } from '../../src/node/module-source.js';
import { singlenodeServe } from '../../src/singlenode/singlenode.js';
import { buildWasm } from '../support/build.js';

const work = mkdtempSync(join(tmpdir(), 'kafu-url-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('app.url fetches the module; a missing one is a UserError naming the field', async () => {
  const wasm = readFileSync(await buildWasm({ sources: ['examples/basic/main.c'] }));
  const server = createServer((req, res) => {
    if (req.url === '/main.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm);
    else if (req.url === '/huge.wasm') res.writeHead(200, { 'content-length': String(2 ** 40) }).end();
    else if (req.url === '/endless.wasm') {
      // A hostile server: chunked, never ends on its own.
      res.writeHead(200);
      const block = Buffer.alloc(64 << 10);
      const pump = () => {
        while (!res.destroyed && res.write(block));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const config = (path: string) => {
      const file = join(work, `kafu-config-${path.replace(/\W/g, '')}.yaml`);
      writeFileSync(
        file,
        `name: url\napp:\n  url: http://127.0.0.1:${port}/${path}\nnodes:\n  cloud: { address: 127.0.0.1, port: 50051 }\n  edge: { address: 127.0.0.1, port: 50052 }\n`,
      );
      return file;
    };
    let out = '';
    const r = await singlenodeServe(config('main.wasm'), {
      log: createLogger(() => {}),
      stdout: (b) => (out += new TextDecoder().decode(b)),
    });
    assert.equal(r.exitCode, 0);
    assert.equal(r.migrations, 2);
    assert.equal(out, 'Hello, from cloud!\nHello, from edge!\nBack on cloud.\n');
    await assert.rejects(singlenodeServe(config('nope.wasm'), { log: createLogger(() => {}) }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /app\.url: http:\/\/127\.0\.0\.1:\d+\/nope\.wasm answered HTTP 404/);
      return true;
    });
    // Bounded: a declared size over the limit is refused before reading, an endless body once it passes the limit.
    await assert.rejects(fetchModule(`http://127.0.0.1:${port}/huge.wasm`, 'c.yaml'), /app\.url: \S+ is 1099511627776 bytes, more than a module may be/);
    await assert.rejects(fetchModule(`http://127.0.0.1:${port}/endless.wasm`, 'c.yaml', 4 << 20), /app\.url: \S+ sent more than a module may be \(4194304 bytes\)/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
