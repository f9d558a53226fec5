import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MigrationStack, POINT_ENTRY, POINT_EXIT } from './migration-stack.js';

const pt = (fn: string, node: string) => ({ id: 0, fn, node });

test('entering a function on another node migrates, returning migrates back', () => {
  const s = new MigrationStack();
  assert.deepEqual(s.pass(pt('f', 'edge'), POINT_ENTRY, 'cloud'), { from: 'cloud', to: 'edge', reason: 'enter', fn: 'f' });
  assert.deepEqual(s.pass(pt('f', 'edge'), POINT_EXIT, 'edge'), { from: 'edge', to: 'cloud', reason: 'return', fn: 'f' });
  assert.deepEqual(s.state(), { depth: 0, frames: [] });
});

test('recursion on the destination node returns home only from the outermost call', () => {
  const s = new MigrationStack();
  const f = pt('f', 'edge');
  assert.ok(s.pass(f, POINT_ENTRY, 'cloud'));
  for (let i = 0; i < 5; i++) assert.equal(s.pass(f, POINT_ENTRY, 'edge'), undefined);
  for (let i = 0; i < 5; i++) assert.equal(s.pass(f, POINT_EXIT, 'edge'), undefined);
  assert.equal(s.pass(f, POINT_EXIT, 'edge')?.to, 'cloud');
});

test('nested chain A→B→C→B→A and state survives a round trip through JSON', () => {
  let s = new MigrationStack();
  assert.equal(s.pass(pt('b', 'edge'), POINT_ENTRY, 'cloud')?.to, 'edge');
  assert.equal(s.pass(pt('c', 'cloud'), POINT_ENTRY, 'edge')?.to, 'cloud');
  s = new MigrationStack(JSON.parse(JSON.stringify(s.state())));
  assert.equal(s.pass(pt('d', 'edge'), POINT_ENTRY, 'cloud')?.to, 'edge');
  assert.equal(s.pass(pt('d', 'edge'), POINT_EXIT, 'edge')?.to, 'cloud');
  assert.equal(s.pass(pt('c', 'cloud'), POINT_EXIT, 'cloud')?.to, 'edge');
  assert.equal(s.pass(pt('b', 'edge'), POINT_EXIT, 'edge')?.to, 'cloud');
});

test('a call to a function of the current node inside a migrated one does not move', () => {
  const s = new MigrationStack();
  s.pass(pt('f', 'edge'), POINT_ENTRY, 'cloud');
  assert.equal(s.pass(pt('g', 'edge'), POINT_ENTRY, 'edge'), undefined);
  assert.equal(s.pass(pt('g', 'edge'), POINT_EXIT, 'edge'), undefined);
  assert.equal(s.pass(pt('f', 'edge'), POINT_EXIT, 'edge')?.to, 'cloud');
});

test('an exit without an entry is an internal error', () => {
  assert.throws(() => new MigrationStack().pass(pt('f', 'edge'), POINT_EXIT, 'cloud'), /without a matching entry/);
});

test('a return to the node the program is on already (a forced migration took it there) does not move', () => {
  // kafu serve refuses a hand-off from a node to itself, so this must not be a migration.
  const s = new MigrationStack();
  const f = pt('f', 'edge');
  assert.ok(s.pass(f, POINT_ENTRY, 'cloud'));
  assert.equal(s.pass(f, POINT_EXIT, 'cloud'), undefined);
  assert.deepEqual(s.state(), { depth: 0, frames: [] });
});
