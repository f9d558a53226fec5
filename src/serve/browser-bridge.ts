// The bridge of a browser node: its `kafu serve` process serves, on `browser.port`, the page a browser opens to
// become the node (the page and its worker script, bundled into dist/browser by `npm run build`) and the WebSocket
// the tab's worker talks over (browser/tab-protocol.ts). The WebSocket needs the run's token (in the URL the node
// logs at start; a new one each start); one tab at a time is the node: another is refused while one is connected.
// A tab that stops answering pings is disconnected. What to do with a connection is tab-program.ts's business.
import { timingSafeEqual, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { MAX_FRAME_JSON } from '../browser/tab-protocol.js';

/** The bundled scripts the page loads (scripts/bundle-browser.mjs writes them). */
const BUNDLE = new URL('../../browser/', import.meta.url);
const SCRIPTS = ['tab-page.js', 'tab-worker.js'] as const;
/** A tab that has not answered a ping for two of these is taken as gone. */
const PING_MS = 5000;

export interface BridgeOptions {
  node: string;
  /** Host to listen on (the node's gRPC host) and the node's address, for the URL to open. */
  listenHost: string;
  address: string;
  port: number;
  /** Largest frame a tab may send: a whole snapshot within the node's limits, plus its message. */
  maxFrameBytes: number;
  log: Logger;
  /** A tab connected (with the token, while no other is). */
  onTab(ws: WebSocket): void;
}

export class BrowserBridge {
  readonly token = randomBytes(16).toString('hex');
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly scripts: Record<string, Buffer>;
  private tab: WebSocket | undefined;
  private pinger: NodeJS.Timeout | undefined;
  /** The tab answered the last ping. */
  private answered = true;

  constructor(private readonly o: BridgeOptions) {
    this.scripts = Object.fromEntries(
      SCRIPTS.map((name) => {
        try {
          return [name, readFileSync(new URL(name, BUNDLE))];
        } catch {
          throw new UserError(`node ${o.node} is a browser node, but this kafu lacks the page's scripts (${new URL(name, BUNDLE).pathname}): run \`npm run build\``);
        }
      }),
    );
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes + MAX_FRAME_JSON + 4 });
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      // Cross-origin isolation lets the worker sleep with Atomics.wait on a SharedArrayBuffer instead of spinning.
      const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store' };
      const script = this.scripts[path.slice(1)];
      if (req.method !== 'GET') res.writeHead(405).end();
      else if (path === '/') res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(page(o.node));
      else if (script) res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' }).end(script);
      else res.writeHead(404).end();
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  /** The URL to open (with the token), once listening. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new UserError(`node ${this.o.node}: cannot serve its browser page on ${this.o.listenHost}:${this.o.port}: ${e.code ?? e.message} (nodes.${this.o.node}.browser.port)`)),
      );
      this.server.listen(this.o.port, this.o.listenHost, () => resolve());
    });
    this.pinger = setInterval(() => this.ping(), PING_MS);
    const host = isIP(this.o.address) && this.o.address !== '0.0.0.0' ? this.o.address : hostname();
    return `http://${isIP(host) === 6 ? `[${host}]` : host}:${this.o.port}/?token=${this.token}`;
  }

  close(): void {
    clearInterval(this.pinger);
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.close();
    this.server.closeAllConnections();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const given = Buffer.from(url.searchParams.get('token') ?? '');
    const refuse = (status: string, why: string) => {
      this.o.log.warn(`browser node ${this.o.node}: refused a tab from ${req.socket.remoteAddress}: ${why}`);
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/kafu') return void socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    const expected = Buffer.from(this.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse('401 Unauthorized', 'a wrong token');
    if (this.tab) return refuse('409 Conflict', 'another tab is this node already (close it first)');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.tab = ws;
      this.answered = true;
      // Answered by the browser itself, even while the program keeps the tab's worker busy.
      ws.on('pong', () => (this.answered = true));
      ws.on('error', () => ws.terminate());
      ws.once('close', () => {
        if (this.tab === ws) this.tab = undefined;
      });
      this.o.log.info(`browser node ${this.o.node}: a tab connected from ${req.socket.remoteAddress}`);
      this.o.onTab(ws);
    });
  }

  private ping(): void {
    if (!this.tab) return;
    if (!this.answered) {
      this.o.log.warn(`browser node ${this.o.node}: the tab does not answer pings; disconnecting it`);
      this.tab.terminate();
      return;
    }
    this.answered = false;
    this.tab.ping();
  }
}

function page(node: string): string {
  const id = node.replace(/[^A-Za-z0-9_.-]/g, '');
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kafu node ${id}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}dt{font-weight:bold}dd{margin:0 0 .6em 0;font-family:monospace}</style>
</head><body data-state="connecting">
<h1>Kafu browser node <span id="node">${id}</span></h1>
<p>Keep this tab open: while it is, this browser is a node of the cluster.</p>
<dl><dt>State</dt><dd id="state">connecting</dd>
<dt>Hand-offs received</dt><dd id="hops-in">0</dd>
<dt>Hand-offs sent</dt><dd id="hops-out">0</dd>
<dt>Last error</dt><dd id="last-error"></dd></dl>
<script type="module" src="/tab-page.js"></script>
</body></html>
`;
}
