// Unguessable ids (memory baselines, output streams, socket handles): random bytes as hex, from the Web Crypto API
// every engine and the browser have.
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
