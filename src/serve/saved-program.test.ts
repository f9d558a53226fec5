// A saved program's file name comes from the config's name, which is any text: it must stay a plain file name in
// the save folder (no folder separators, no "..", no hidden file).
import assert from 'node:assert/strict';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { savedProgramFile } from './saved-program.js';

test('the config name becomes a safe file name in the save folder', () => {
  const dir = join('/tmp', 'saves');
  for (const [name, prefix] of [
    ['pingpong', 'pingpong-'],
    ['team/app', 'team_app-'],
    ['../../etc/x', 'etc_x-'],
    ['..', 'program-'],
    ['voice activity (edge)', 'voice_activity_edge_-'],
    ['.hidden', 'hidden-'],
  ] as const) {
    const f = savedProgramFile(dir, name);
    assert.equal(dirname(f), dir, name);
    assert.ok(basename(f).startsWith(prefix), `${name} → ${basename(f)}`);
    assert.match(basename(f), /^[A-Za-z0-9][A-Za-z0-9._-]*\.kafusnap$/, name);
  }
});
