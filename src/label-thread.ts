/**
 * Entry module of the labelling thread, and its composition root: the thread builds its own codec,
 * so this is where it gets the real schema registry client (`worker/` knows only the interface).
 * `ThreadLabeller` starts it; run-worker.ts names it.
 */
import { HttpSchemaRegistry } from './registry/schema-registry-client.js';
import { serveLabelling } from './worker/labeller/label-thread.js';

serveLabelling({ registryAt: (url) => new HttpSchemaRegistry(url) });
