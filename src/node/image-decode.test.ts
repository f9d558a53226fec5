// decodeImage: JPEG and PNG to 8-bit samples as image_to_tensor expects them; anything else is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage } from './image-decode.js';

test('a JPEG decodes to RGB, a PNG to RGBA (grey repeated), anything else is refused', () => {
  const rgba = Buffer.alloc(8 * 4 * 4);
  for (let i = 0; i < 32; i++) rgba.set([200, 100, 50, 255], i * 4);
  const j = decodeImage(jpeg.encode({ data: rgba, width: 8, height: 4 }, 100).data);
  assert.deepEqual([j.width, j.height, j.channels], [8, 4, 3]);
  assert.ok([...j.data.subarray(0, 3)].every((v, c) => Math.abs(v - [200, 100, 50][c]!) <= 2), `${[...j.data.subarray(0, 3)]}`);

  const png = new PNG({ width: 2, height: 1, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from([7, 250]);
  const p = decodeImage(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
  assert.deepEqual([p.width, p.height, p.channels, ...p.data], [2, 1, 4, 7, 7, 7, 255, 250, 250, 250, 255]);

  assert.throws(() => decodeImage(new Uint8Array([0x47, 0x49, 0x46, 0x38])), /neither JPEG nor PNG/);
  assert.throws(() => decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0])));
});

test('a PNG that declares more pixels than the limit is refused before anything is allocated', () => {
  const png = new PNG({ width: 1, height: 1 });
  png.data = Buffer.from([1, 2, 3, 255]);
  const bytes = Buffer.from(PNG.sync.write(png));
  // IHDR's width and height (bytes 16-23) rewritten to 30000×30000: 3.6 GB of RGBA if decoded. (Its CRC is now
  // wrong too; the size check comes first.)
  bytes.writeUInt32BE(30000, 16);
  bytes.writeUInt32BE(30000, 20);
  assert.throws(() => decodeImage(bytes), /30000×30000 pixels is over the limit of 100 million/);
});
