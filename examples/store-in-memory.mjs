// An object store of your own: a dataset kept in memory.
//
// The same ObjectStore contract fits GCS, Azure Blob or any key-value store:
// each object appears whole (create() streams through a Destination whose
// commit() publishes it), reads see every write, and putIf() is a
// compare-and-swap, on which ctlake builds its locks. exportQuery writes
// the partitions, rolled parts, manifest and _SUCCESS there, and
// verifyDataset checks them, as for a folder or an S3 prefix.
//
// Runs as it is, with no AWS account: it starts ctlake's local emulator.
//
//   npm ci && node examples/store-in-memory.mjs
import { Readable, Writable } from 'node:stream';
import { exportQuery, isCtlakeError, verifyDataset } from 'ctlake';
import { startEmulator } from 'ctlake/emulator';

/** An ObjectStore in a Map: name -> { data, tag }. */
function memoryStore(root = 'memory://dataset/') {
  const objects = new Map();
  let version = 0;
  const set = (name, data) => {
    const tag = String(++version);
    objects.set(name, { data, tag });
    return tag;
  };
  return {
    root,
    objects,
    async check() {},
    async create(name) {
      const chunks = [];
      let bytes = 0;
      const writable = new Writable({
        write(chunk, _encoding, callback) {
          chunks.push(chunk);
          bytes += chunk.length;
          callback();
        },
      });
      return {
        location: root + name,
        writable,
        bytesWritten: () => bytes,
        // Visible only now, and whole.
        async commit() {
          set(name, Buffer.concat(chunks));
        },
        async abort() {
          chunks.length = 0;
        },
      };
    },
    async put(name, data) {
      set(name, Buffer.from(data));
    },
    async get(name) {
      return objects.get(name)?.data;
    },
    async getTagged(name) {
      const object = objects.get(name);
      return object && { data: object.data, tag: object.tag };
    },
    // The one atomic step: JavaScript runs this check and set without a break.
    async putIf(name, data, condition) {
      const current = objects.get(name);
      if ('ifAbsent' in condition ? current !== undefined : current?.tag !== condition.ifTag) return undefined;
      return set(name, Buffer.from(data));
    },
    async read(name) {
      const object = objects.get(name);
      if (!object) throw new Error(`no object ${name} in ${root}`);
      return Readable.from([object.data]);
    },
    async *list() {
      for (const [name, { data }] of [...objects].sort(([a], [b]) => (a < b ? -1 : 1))) yield { name, size: data.length };
    },
    async remove(name) {
      objects.delete(name);
    },
  };
}

const queryId = '0a1b2c3d-0000-4000-8000-123456789abc';
const rows = Array.from({ length: 3000 }, (_, i) => [
  { eventTime: `2024-05-0${1 + (i % 3)} 12:00:00.000` },
  { eventName: i % 2 ? 'AssumeRole' : 'ConsoleLogin' },
  { awsRegion: 'us-east-1' },
]);
const emulator = await startEmulator({ queries: [{ queryId, rows }] });
process.env.AWS_ACCESS_KEY_ID ??= 'emulator';
process.env.AWS_SECRET_ACCESS_KEY ??= 'emulator';

try {
  const store = memoryStore();
  // With a store, the format is Parquet unless `format` says otherwise, as for a dataset folder.
  const summary = await exportQuery({ queryId, store, partitionBy: ['eventTime:day'], maxRowsPerFile: 600, endpointUrl: emulator.url, region: 'us-east-1' });
  console.error(`exported ${summary.rows} rows to ${summary.files.length} files in ${summary.dataset.root}, e.g. ${summary.files[0]}`);
  const report = await verifyDataset(store);
  console.error(`verify: ${report.ok ? 'ok' : report.problems.join('; ')}, ${report.files} files, ${report.rows} rows; objects: ${[...store.objects.keys()].filter((n) => !n.endsWith('.parquet')).join(', ')}`);
  if (!report.ok) process.exitCode = 1;
} catch (error) {
  console.error(isCtlakeError(error) ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await emulator.close();
}
