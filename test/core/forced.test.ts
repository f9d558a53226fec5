// KAFU_DEST migrations and forced migrations after every WASI call together: the core programs must give the
// same output, files and exit code as a plain run, whichever node each piece of code ends up on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observable, runForced } from '../support/forced.js';

const T = { timeout: 240_000 };

for (const [program, nodes] of [
  ['files.c', ['cloud', 'edge']],
  ['statics.c', ['cloud', 'edge', 'fog']],
  ['recursive.c', ['cloud', 'edge']],
] as const) {
  test(`${program}: a migration after every WASI call on top of its KAFU_DEST migrations`, T, async () => {
    const r = await runForced([`test/programs/core/${program}`], { every: 1, nodes: [...nodes] });
    assert.deepEqual(observable(r.migrating), observable(r.plain));
    assert.ok(r.migrating.logs.some((l) => /\(forced after fd_write\)/.test(l)), 'forced migrations happened');
    // (Whether a KAFU_DEST call still moves depends on where the forced hops left the program: already on the
    // function's node, it stays.)
  });
}

// Warm instances: each node resumes the program in the instance it left there (or one prepared ahead). A heap whose
// pages change, become zero and grow between hops gives the same result as a plain run. With forced migrations
// round robin over three nodes, a node's parked instance never holds the image a delta is against (the node's last
// hop was with another node): every page is written into it. With KAFU_DEST hops only, each hop is a delta against
// what the receiver's instance holds when it returns to cloud or visits a node first (the module's initial image):
// only changed pages are written.
for (const every of [1, 1000]) {
  test(`warm.c: parked instances over three nodes (a migration every ${every} WASI calls) give the plain run's results`, T, async () => {
    const r = await runForced(['test/programs/core/warm.c'], { every, nodes: ['cloud', 'edge', 'fog'], cflags: ['-O2'] });
    assert.deepEqual(observable(r.migrating), observable(r.plain));
    assert.match(r.plain.stdout, /^kept 4: [0-9a-f]{8}$/m);
    const { migrations, warmResumes, deltaResumes } = r.migrating;
    assert.ok(migrations >= 24, `${migrations} migrations`);
    // Only a node whose instance's memory is larger than the arriving image takes a fresh one: never here.
    assert.equal(warmResumes, migrations);
    // (Every return to cloud, the first visits to edge and fog.)
    if (every === 1000) assert.ok(deltaResumes >= migrations / 2 + 2, `${deltaResumes} delta resumes of ${migrations}`);
    else assert.ok(deltaResumes < migrations / 4, `${deltaResumes} delta resumes of ${migrations}`);
  });
}
