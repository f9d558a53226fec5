// Unguessable ids (memory baselines, output streams, socket handles): random bytes as hex, from the Web Crypto API
// every engine and the browser have. Drawn from a pool filled 4 KiB at a time: a migration makes an id on the
// downtime's path, and one getRandomValues call per id cost ~0.1 ms there.
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let used = POOL_BYTES;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) throw new Error(`randomHex: at most ${POOL_BYTES} bytes`);
  if (used + bytes > POOL_BYTES) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  let hex = '';
  for (let i = used; i < used + bytes; i++) hex += HEX[pool[i]!]!;
  used += bytes;
  return hex;
}
