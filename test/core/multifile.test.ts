// A program of two C files and a header, with KAFU_DEST in each file and one in the header (so both object files
// carry that record): built in one command, and built as `-c` of each file then a link of the objects.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { test } from 'node:test';
import { customSectionNames } from '../../src/clang/index.js';
import { buildWasm, repoRoot } from '../support/build.js';
import { m } from '../support/run.js';
import { PROGRAMS, assertSameAsPlain, buildPair } from './common.js';

const DIR = `${PROGRAMS}/multi`;
const expected = [
  m('cloud', 'edge', 'enter', 'work'),
  m('edge', 'cloud', 'enter', 'report'),
  m('cloud', 'edge', 'return', 'report'),
  m('edge', 'cloud', 'return', 'work'),
  // helper(2) from main on cloud; the six calls of helper from work ran on edge already.
  m('cloud', 'edge', 'enter', 'helper'),
  m('edge', 'cloud', 'return', 'helper'),
];
const stdout = 'report #1: sum = 55\nmain: work(6)=80, reports=1, helper(2)=4\n';

const oneCommand = { sources: [`${DIR}/main.c`, `${DIR}/worker.c`], args: ['-O1', `-I${DIR}`] };

test('multi-file program built in one kafu clang command', async () => {
  const pair = await buildPair(oneCommand);
  const { migrating } = await assertSameAsPlain(pair, { nodes: ['cloud', 'edge'], expected });
  assert.equal(migrating.stdout, stdout);
});

test('multi-file program built as kafu clang -c of each file, then a link of the objects', async () => {
  // buildWasm runs `kafu clang <sources> <args> -o <cache>/<hash>.wasm`: with -c that file is a wasm object file,
  // cached like any build, and a later build can take it (repo-relative) as a linker input.
  const objects: string[] = [];
  for (const f of ['main', 'worker']) {
    const obj = await buildWasm({ sources: [`${DIR}/${f}.c`], args: ['-c', '-O1', `-I${DIR}`] });
    const names = customSectionNames(new Uint8Array(await readFile(obj)));
    assert.ok(names.includes('linking'), `${f}: a relocatable object, not a linked module`);
    assert.ok(names.includes('kafu.dest'), `${f}: carries its KAFU_DEST records`);
    assert.ok(!names.includes('kafu.meta'), `${f}: not instrumented (only a link is)`);
    objects.push(relative(repoRoot, obj));
  }
  const linked = await buildWasm({ sources: objects });
  const names = customSectionNames(new Uint8Array(await readFile(linked)));
  assert.ok(names.includes('kafu.meta'));
  assert.ok(!names.includes('kafu.dest'), 'the records are consumed by the instrumenter');
  // Baseline: the one-command build, uninstrumented; the separately compiled program must behave the same.
  const { plain } = await buildPair(oneCommand);
  const { migrating } = await assertSameAsPlain({ instrumented: linked, plain }, { nodes: ['cloud', 'edge'], expected });
  assert.equal(migrating.stdout, stdout);
});
