// An internal failure (here a real one: binaryen rejecting a module kafu hands it) is one line on stderr that says it
// is kafu's bug and where to report it; the stack only when asked for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instrument } from '../instrument/instrument.js';
import { internalErrorText, wantsStack } from './internal-error.js';

/** A module our section reader accepts and binaryen's parser does not: `_start`'s body is an opcode that does not exist. */
function moduleBinaryenRejects(): Uint8Array {
  const sec = (id: number, bytes: number[]) => [id, bytes.length, ...bytes];
  const str = (s: string) => [s.length, ...Buffer.from(s)];
  const body = [0, 0xfe, 0xff, 0x0b];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...sec(1, [1, 0x60, 0, 0]), ...sec(3, [1, 0]), ...sec(5, [1, 0, 1]),
    ...sec(7, [2, ...str('_start'), 0, 0, ...str('memory'), 2, 0]),
    ...sec(10, [1, body.length, ...body])]);
}

test('a binaryen failure is an Error with binaryen\'s message (not an opaque C++ exception object)', async () => {
  await assert.rejects(instrument(moduleBinaryenRejects(), { optimizeLevel: 0, systemCallPoints: true }), (e: unknown) => {
    assert.ok(e instanceof Error, `threw ${String(e)}`);
    assert.match(e.message, /^binaryen failed: .*error in parsing wasm binary/);
    return true;
  });
});

test('an internal error is one line naming it a kafu bug, where to report it, and how to see the stack', async () => {
  const e = await instrument(moduleBinaryenRejects(), { optimizeLevel: 0, systemCallPoints: true }).then(() => undefined, (x: unknown) => x);
  const text = internalErrorText(e, '9.9.9', false);
  assert.equal(text.split('\n').length, 2, text); // one line and its newline
  assert.match(text, /^kafu: internal error: binaryen failed: .* — this is a bug in kafu 9\.9\.9, not in your program or command; please report it .*; KAFU_DEBUG=1 prints the stack\n$/);
  assert.doesNotMatch(text, /\n\s+at /);
  const withStack = internalErrorText(e, '9.9.9', true);
  assert.ok(withStack.startsWith(text.replace('; KAFU_DEBUG=1 prints the stack', '')), withStack);
  assert.match(withStack, /\n\s+at .*instrument/);
  // A message that is a whole module's text is cut to its first line, and to 300 characters.
  const long = internalErrorText(new TypeError(`${'x'.repeat(1000)}\n(module …)`), '1', false);
  assert.match(long, /^kafu: internal error: TypeError: x{289}… — /);
  assert.doesNotMatch(long, /module …/);
  // Something thrown that is not an Error is still described.
  assert.match(internalErrorText({ code: 7 }, '1', false), /^kafu: internal error: Object \{"code":7\} — /);
});

test('the stack is asked for with KAFU_DEBUG or a debug log level', () => {
  assert.equal(wantsStack({}), false);
  assert.equal(wantsStack({ KAFU_DEBUG: '0' }), false);
  assert.equal(wantsStack({ KAFU_DEBUG: '1' }), true);
  assert.equal(wantsStack({ KAFU_LOG: 'debug' }), true);
  assert.equal(wantsStack({ RUST_LOG: 'kafu=debug' }), true);
  assert.equal(wantsStack({ KAFU_LOG: 'info' }), false);
});
