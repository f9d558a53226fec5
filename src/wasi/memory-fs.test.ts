import { fsConformance } from './fs-conformance.testlib.js';
import { MemoryFsBackend } from './memory-fs.js';

fsConformance('the in-memory backend', () => ({ backend: new MemoryFsBackend() }));
