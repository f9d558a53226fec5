// The build cache's entries under damage: every way a file can go wrong on disk is a miss (and the file goes), never
// wrong bytes; a payload's parts never read past their entry.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CacheKey, cacheGet, cachePut, packParts, unpackParts } from './cache.js';

const dir = mkdtempSync(join(tmpdir(), 'kafu-cache-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { KAFU_CACHE_DIR: dir };

/** A deterministic generator (xorshift32), so a failure names the case that reproduces it. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test('a damaged entry is a miss and is removed; an intact one reads back exactly', () => {
  const rand = rng(1234);
  for (let i = 0; i < 300; i++) {
    const key = new CacheKey().add(`case ${i}`).digest();
    const data = new Uint8Array(1 + Math.floor(rand() * 3000)).map(() => Math.floor(rand() * 256));
    cachePut('clang', key, data, env);
    assert.deepEqual(cacheGet('clang', key, env), data, `case ${i}: intact`);
    const file = join(dir, 'clang', key);
    const bytes = readFileSync(file);
    const how = i % 4;
    let damaged: Buffer;
    if (how === 0) {
      damaged = Buffer.from(bytes);
      const at = Math.floor(rand() * bytes.length);
      damaged[at]! ^= 1 << Math.floor(rand() * 8); // one flipped bit, anywhere (magic, seal or payload)
    } else if (how === 1) {
      damaged = bytes.subarray(0, Math.floor(rand() * bytes.length)); // cut short
    } else if (how === 2) {
      damaged = Buffer.concat([bytes, Buffer.from([Math.floor(rand() * 256)])]); // a byte too many
    } else {
      // Another key's intact entry under this key's name.
      const other = new CacheKey().add(`other ${i}`).digest();
      cachePut('clang', other, data, env);
      renameSync(join(dir, 'clang', other), file);
      damaged = readFileSync(file);
    }
    writeFileSync(file, damaged);
    assert.equal(cacheGet('clang', key, env), undefined, `case ${i} (damage ${how}): a miss`);
    assert.ok(!readdirSync(join(dir, 'clang')).includes(key), `case ${i}: the damaged entry is removed`);
  }
});

test('an entry of an older format (the bare payload) is a miss', () => {
  const key = new CacheKey().add('old').digest();
  mkdirSync(join(dir, 'instrument'), { recursive: true });
  writeFileSync(join(dir, 'instrument', key), new Uint8Array(100));
  assert.equal(cacheGet('instrument', key, env), undefined);
  assert.equal(existsSync(join(dir, 'instrument', key)), false);
});

test('unpackParts takes back what packParts made, and never reads outside a mangled payload', () => {
  const rand = rng(99);
  const parts: [string, Uint8Array][] = [['stdout', new Uint8Array([1, 2])], ['stderr', new Uint8Array()], ['/w/a.o', new Uint8Array(700).fill(7)]];
  const packed = packParts(parts);
  assert.deepEqual(unpackParts(packed), parts);
  for (let i = 0; i < 2000; i++) {
    const m = Buffer.from(packed);
    const flips = 1 + Math.floor(rand() * 4);
    for (let f = 0; f < flips; f++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
    const cut = rand() < 0.3 ? m.subarray(0, Math.floor(rand() * m.length)) : m;
    const got = unpackParts(cut);
    if (got === undefined) continue;
    // Whatever it accepts accounts for every byte of the payload exactly once.
    const headLen = cut.readUInt32LE(0);
    assert.equal(4 + headLen + got.reduce((s, [, b]) => s + b.length, 0), cut.length, `case ${i}`);
    for (const [name] of got) assert.equal(typeof name, 'string', `case ${i}`);
  }
});
