// A browser node's page: starts the worker that is the node (tab-worker.ts), with the token of the page's URL, and
// shows the node's state. The page's own thread stays free to draw.
import type { TabStatus } from './tab-status.js';

// The token travels in the worker's own URL: a message posted now could reach the worker before its module has
// finished loading (its top-level await), which some browsers (Firefox) drop.
const token = new URLSearchParams(location.search).get('token') ?? '';
const script = new URL('tab-worker.js', location.href);
script.search = `?token=${encodeURIComponent(token)}`;
const worker = new Worker(script, { type: 'module' });
worker.onmessage = (e: MessageEvent<TabStatus>) => {
  const s = e.data;
  for (const [id, value] of Object.entries({ node: s.node, state: s.state, 'hops-in': s.hopsIn, 'hops-out': s.hopsOut, 'last-error': s.lastError })) {
    document.getElementById(id)!.textContent = String(value);
  }
  document.body.dataset['state'] = s.state;
};
worker.onerror = (e) => {
  document.getElementById('state')!.textContent = 'error';
  document.getElementById('last-error')!.textContent = e.message;
};
