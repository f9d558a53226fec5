// A browser tab as a node (README "A browser tab as a node"): real `kafu serve` processes over mTLS, one of them a
// browser node whose program runs in a real headless browser (Chromium, and Firefox ESR over WebDriver BiDi) that
// opened the page it serves. Each run is compared with the same program run plainly (`kafu run`'s code): same
// stdout, same files, same exit code. Each browser is launched once for this file; a missing one skips its tests
// with the package to install.
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import WebSocket from 'ws';
import { buildWasm } from '../support/build.js';
import { BROWSERS, browserMissing, launchBrowser, pageState, waitForState, type BrowserKind, type LaunchedBrowser } from '../support/browser.js';
import { freePorts, runCluster, type ClusterOptions, type ClusterRun, type RunningCluster } from '../support/cluster.js';
import { buildForced, freshDir, runPlainModule, snapshotTree, writeFiles } from '../support/forced.js';
import { runPlain } from '../support/run.js';

const moved = (logs: string[]) => logs.filter((l) => l.startsWith('Program moved to '));

/** The URL the browser node `id` logs for its page (with the run's token). */
async function pageUrl(c: RunningCluster, id: string): Promise<string> {
  await c.printed(id, 'in a browser (one tab at a time');
  return /open (http:\/\/\S+) in a browser/.exec(c.stderr(id))![1]!;
}

/**
 * Run `wasm` on nodes `cloud` and `edge`, edge a browser node whose page a new tab of `b` opens (after `beforeTab`,
 * if given); returns the run and the tab.
 */
async function runWithTab(
  b: LaunchedBrowser,
  wasm: string,
  o: Omit<ClusterOptions, 'nodes' | 'nodeYaml' | 'whileRunning'> & { whileTab?: (c: RunningCluster, page: Page, url: string) => Promise<void>; beforeTab?: (url: string) => Promise<void> },
): Promise<{ run: ClusterRun; page: Page }> {
  const [port] = await freePorts(1);
  let page: Page | undefined;
  const run = await runCluster(wasm, {
    output: 'first_node',
    timeoutMs: 90_000,
    ...o,
    nodes: ['cloud', 'edge'],
    nodeYaml: { edge: [`    browser: { port: ${port} }`] },
    whileRunning: async (c) => {
      const url = await pageUrl(c, 'edge');
      await o.beforeTab?.(url);
      page = await b.browser.newPage();
      await page.goto(url);
      await o.whileTab?.(c, page, url);
    },
  });
  return { run, page: page! };
}

/** `kind` launched once for the enclosing describe (closed after it); the function gives it to its tests. */
function launchedFor(kind: BrowserKind): () => LaunchedBrowser {
  let b: LaunchedBrowser | undefined;
  before(async () => {
    b = await launchBrowser(kind);
  });
  after(() => b?.close());
  return () => b!;
}

const failure = (run: ClusterRun) => Object.entries(run.nodes).map(([id, n]) => `${id} (exit ${n.exitCode}):\n${n.stderr}`).join('\n');

for (const kind of BROWSERS) {
  describe(`a browser node in ${kind.name}`, { skip: browserMissing(kind) }, () => {
    const browser = launchedFor(kind);

    test('files.c: cloud → tab → cloud, follow-mount files changed in the tab; files and exit code equal kafu run; the page shows the hops', async () => {
      const src = ['test/programs/core/files.c'];
      const wasm = await buildWasm({ sources: src, args: ['-O1'] });
      const plainWasm = await buildWasm({ sources: src, args: ['-O1'], instrument: false });
      const work = await freshDir('kafu-browser-files-');
      try {
        const files = { 'input.txt': 'one\ntwo\nthree\nfour\nfive\n', ...Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [`entries/${n}`, n])) };
        await writeFiles(join(work, 'plain'), files);
        await writeFiles(join(work, 'state', 'cloud'), files);
        const plain = await runPlainModule(plainWasm, join(work, 'plain'));
        const { run, page } = await runWithTab(browser(), wasm, { dir: work, appYaml: ['  mounts:', '    - { guest: /, host: "./state/${node}" }'] });
        assert.equal(run.nodes.cloud!.exitCode, plain.exitCode, failure(run));
        assert.equal(run.nodes.edge!.exitCode, plain.exitCode, failure(run));
        // 5 entries at the start; from-edge.txt is created mid-listing, so POSIX leaves open whether it is listed.
        assert.match(run.nodes.cloud!.stdout, /^entries seen: [56], duplicates: 0, note: written on edge\n$/);
        assert.deepEqual(await snapshotTree(join(work, 'state', 'cloud')), await snapshotTree(join(work, 'plain')));
        assert.equal(moved(run.logs).length, 2, run.logs.join('\n'));
        const shown = await pageState(page);
        assert.deepEqual(shown, { state: 'ended', node: 'edge', hopsIn: 1, hopsOut: 1, lastError: shown.lastError });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });

    test('fd_file.c moved after every 3rd WASI call between cloud and the tab, page deltas both ways: output and exit code equal kafu run', async () => {
      const wasm = await buildForced(['test/programs/wasi/fd_file.c']);
      const work = await freshDir('kafu-browser-forced-');
      try {
        await mkdir(join(work, 'plain'));
        const plain = await runPlainModule(wasm.plain, join(work, 'plain'));
        const { run } = await runWithTab(browser(), wasm.migrating, {
          dir: work,
          appYaml: ['  mounts:', '    - { guest: /, host: "./state/${node}" }'],
          flags: ['--force-migration-every', '3'],
        });
        assert.equal(run.nodes.cloud!.exitCode, plain.exitCode, failure(run));
        assert.equal(run.nodes.cloud!.stdout, plain.stdout);
        const moves = moved(run.logs);
        assert.ok(moves.length > 20, `many forced migrations (${moves.length})`);
        // After the first hop each one, into the tab and out of it, is a page delta against the last hop's image.
        assert.equal(moves.filter((l) => / \(delta: /.test(l)).length, moves.length - 1, moves.join('\n'));
        const ended = /^Program finished on (\S+) /.exec(run.logs.find((l) => l.startsWith('Program finished on')) ?? '')?.[1];
        // The files are the plain run's wherever the program ended on a node with a disk (a tab's are in its memory).
        if (ended === 'cloud') assert.deepEqual(await snapshotTree(join(work, 'state', 'cloud')), await snapshotTree(join(work, 'plain')));
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  });
}

const chromium = BROWSERS.find((k) => k.name === 'chromium')!;

describe('a browser node\'s bridge (Chromium)', { skip: browserMissing(chromium) }, () => {
  const browser = launchedFor(chromium);

  test('a wrong token, a second tab and hostile frames are refused; the bridge stays up, and recursive.c\'s nested and recursive hops into a real tab then equal a plain run', async () => {
    const src = ['test/programs/core/recursive.c'];
    const wasm = await buildWasm({ sources: src, args: ['-O1'] });
    const plain = await runPlain(await buildWasm({ sources: src, args: ['-O1'], instrument: false }));
    const wsUrl = (url: string, token: string) => url.replace(/^http/, 'ws').replace(/\/\?token=.*$/, `/kafu?token=${token}`);
    const closes: number[] = [];
    const { run, page } = await runWithTab(browser(), wasm, {
      beforeTab: async (url) => {
        const token = /token=(\w+)/.exec(url)![1]!;
        // Refused before any WebSocket exists: a wrong token (401), a second tab while one is connected (409).
        assert.equal(await refusedStatus(wsUrl(url, token.replace(/./, (c) => (c === '0' ? '1' : '0')))), 401);
        const first = await connected(wsUrl(url, token));
        assert.equal(await refusedStatus(wsUrl(url, token)), 409);
        // Hostile frames, each closing its connection (policy violation) and nothing else: text, a length field
        // past the frame, a message out of turn, bytes where none may be.
        const frame = (json: string, extra = 0) => {
          const j = Buffer.from(json);
          const f = Buffer.alloc(4 + j.length + extra);
          f.writeUInt32LE(j.length, 0);
          j.copy(f, 4);
          return f;
        };
        closes.push(await closedAfter(first, 'garbage'));
        const hostile = [Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]), frame('{"type":"resumed","downtimeMs":1}'), frame('{"type":"ready"}', 10), frame('{"type":"exited","code":"x"}')];
        for (const h of hostile) closes.push(await closedAfter(await connected(wsUrl(url, token)), h));
      },
    });
    assert.deepEqual(closes, [1008, 1008, 1008, 1008, 1008]);
    const edge = run.nodes.edge!;
    assert.equal(run.nodes.cloud!.exitCode, 0, failure(run));
    assert.equal(edge.exitCode, 0, failure(run));
    assert.equal(run.nodes.cloud!.stdout, plain.stdout);
    const hops = moved(run.logs).length;
    assert.ok(hops >= 20, run.logs.join('\n'));
    const shown = await pageState(page);
    assert.equal(shown.hopsIn + shown.hopsOut, hops);
    assert.match(edge.stderr, /refused a tab from \S+: a wrong token/);
    assert.match(edge.stderr, /refused a tab from \S+: another tab is this node already/);
    assert.equal(edge.stderr.match(/refused a message from the tab/g)?.length, 5, edge.stderr);
  });

  test('the tab closing while it holds the program: with cluster.checkpoint: hops the run continues in a new tab', async () => {
    const src = ['test/programs/serve/linger.c'];
    const wasm = await buildWasm({ sources: src, args: ['-O1'] });
    const plain = await runPlain(await buildWasm({ sources: src, args: ['-O1'], instrument: false }), { args: ['1'] });
    const { run } = await runWithTab(browser(), wasm, {
      args: ['1'],
      clusterYaml: ['  heartbeat:', '    interval_ms: 200', '  checkpoint: hops'],
      whileTab: async (c, page, url) => {
        await c.printed('cloud', 'edge: waiting');
        await waitForState(page, 'running');
        await page.close();
        await c.printed('cloud', 'continuing from the checkpoint');
        const again = await browser().browser.newPage();
        await again.goto(url);
      },
    });
    assert.equal(run.nodes.cloud!.exitCode, 0, failure(run));
    assert.equal(run.nodes.cloud!.stdout, plain.stdout);
    assert.match(run.nodes.edge!.stderr, /its tab closed or lost the connection while the program ran there/);
  });

  test('a tab replaced while the program is elsewhere: the hop that counts on its files is sent again with them', async () => {
    const src = ['test/programs/wasi/tab_swap.c'];
    const wasm = await buildWasm({ sources: src, args: ['-O1'] });
    const dir = await freshDir('kafu-tab-swap-');
    try {
      const plainDir = join(dir, 'plain');
      await writeFiles(plainDir, { 'ctl/go': '' });
      await mkdir(join(plainDir, 'data'));
      // ("/" preopened: /data and /ctl are its folders.)
      const plain = await runPlainModule(await buildWasm({ sources: src, args: ['-O1'], instrument: false }), plainDir);
      assert.match(plain.stdout, /second tab: \/data\/note\.txt: \[kept\]/);
      const runDir = join(dir, 'run');
      await mkdir(join(runDir, 'ctl'), { recursive: true });
      const { run } = await runWithTab(browser(), wasm, {
        dir: runDir,
        appYaml: ['  mounts:', '    - { guest: /data, host: "./data/${node}" }', '    - { guest: /ctl, host: ./ctl, mode: node-local }'],
        whileTab: async (c, page, url) => {
          await c.printed('cloud', 'cloud: waiting for the tab swap');
          await page.close();
          const again = await browser().browser.newPage();
          await again.goto(url);
          await waitForState(again, 'waiting');
          await writeFiles(join(runDir, 'ctl'), { go: '' });
        },
      });
      assert.equal(run.nodes.cloud!.exitCode, 0, failure(run));
      assert.equal(run.nodes.cloud!.stdout, plain.stdout);
      // The new tab holds neither the memory image the delta is against nor the files: the whole snapshot carries both.
      assert.match(run.nodes.cloud!.stderr, /sending the whole snapshot: node edge refused the snapshot: .*a delta against memory baseline \S+, which this node does not hold/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The HTTP status a WebSocket handshake to `url` is refused with. */
function refusedStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error(`${url} was accepted`)));
    ws.on('error', () => undefined);
  });
}

/** An open WebSocket to `url` (its first message, the setup, arrives and is ignored). */
function connected(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

/** Send `data` and resolve with the close code the bridge answers with. */
function closedAfter(ws: WebSocket, data: string | Buffer): Promise<number> {
  return new Promise((resolve) => {
    ws.on('close', (code) => resolve(code));
    ws.send(data);
  });
}
