import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP endpoint that is not CloudTrail: `answer` decides each response from the X-Amz-Target operation. */
export interface FakeEndpoint {
  url: string;
  /** The operation of every request, in arrival order. */
  calls: string[];
  close(): Promise<void>;
}

export interface FakeAnswer {
  status: number;
  type: string;
  body: string;
}

export const JSON_11 = 'application/x-amz-json-1.1';

/** A JSON answer as CloudTrail's protocol sends one. */
export const json = (body: unknown, status = 200): FakeAnswer => ({ status, type: JSON_11, body: JSON.stringify(body) });

/** Serves `answer` on 127.0.0.1, port 0, for answers the emulator never gives. */
export async function fakeEndpoint(answer: (operation: string) => FakeAnswer): Promise<FakeEndpoint> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.lastIndexOf('.') + 1);
      calls.push(operation);
      const { status, type, body } = answer(operation);
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
