// A destination of your own: export a query's rows with an HTTP PUT.
//
// exportQuery encodes into `destination.writable` (here the request's body,
// streamed, never held whole in memory), then calls commit() after success
// or abort() on any failure. The server keeps an upload only when its body
// is complete, as S3 does with a presigned PUT URL: abort() destroys the
// request, so a failed export never leaves a short object behind.
//
// Runs as it is, with no AWS account: it starts ctlake's local emulator and
// a small HTTP server that stands in for the upload endpoint.
//
//   npm ci && node examples/sink-http-put.mjs
import http from 'node:http';
import { exportQuery, isCtlakeError } from 'ctlake';
import { startEmulator } from 'ctlake/emulator';

/** A Destination that PUTs the bytes to `url`. */
function httpPutDestination(url) {
  let bytes = 0;
  const request = http.request(url, { method: 'PUT', headers: { 'content-type': 'application/x-ndjson' } });
  const response = new Promise((resolve, reject) => {
    request.on('response', resolve);
    request.on('error', reject);
  });
  // Kept from rejecting unobserved when the export fails before commit().
  response.catch(() => {});
  const write = request.write.bind(request);
  request.write = (chunk, ...rest) => ((bytes += chunk.length), write(chunk, ...rest));
  return {
    location: url,
    writable: request,
    bytesWritten: () => bytes,
    async commit() {
      const res = await response;
      res.resume();
      if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`PUT ${url} answered ${res.statusCode}`);
    },
    async abort() {
      request.destroy();
    },
  };
}

// The upload endpoint: an object is kept only when its whole body arrived.
const objects = new Map();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    objects.set(req.url, Buffer.concat(chunks));
    res.writeHead(201).end();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const uploads = `http://127.0.0.1:${server.address().port}`;

const queryId = '0a1b2c3d-0000-4000-8000-123456789abc';
const rows = Array.from({ length: 1500 }, (_, i) => [{ eventTime: `2024-05-01 00:00:${String(i % 60).padStart(2, '0')}.000` }, { eventName: i % 2 ? 'AssumeRole' : 'ConsoleLogin' }]);
const emulator = await startEmulator({ queries: [{ queryId, rows }] });
process.env.AWS_ACCESS_KEY_ID ??= 'emulator';
process.env.AWS_SECRET_ACCESS_KEY ??= 'emulator';

try {
  // With a destination there is no file name to infer the format from: NDJSON unless `format` says otherwise.
  const summary = await exportQuery({ queryId, destination: httpPutDestination(`${uploads}/exports/${queryId}.ndjson`), endpointUrl: emulator.url, region: 'us-east-1' });
  const stored = objects.get(`/exports/${queryId}.ndjson`);
  console.error(`exported ${summary.rows} rows to ${summary.files[0]} (${summary.bytes} bytes); the server holds ${stored.toString('utf8').trim().split('\n').length} lines`);
} catch (error) {
  console.error(isCtlakeError(error) ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await emulator.close();
  server.close();
}
