import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

/** One AssumeRole call as the test STS saw it. */
export interface StsCall {
  action: string | null;
  roleArn: string | null;
  /** The access key id the call was signed with (the source profile's). */
  signedWith: string | undefined;
}

export interface TestSts {
  url: string;
  calls: StsCall[];
  /** Answers every call with this error (HTTP 403, STS's XML) instead of credentials; undefined: credentials again. */
  failWith(error: { code: string; message: string } | undefined): void;
  close(): Promise<void>;
}

/**
 * A minimal STS on 127.0.0.1 for role assumption (source_profile with
 * role_arn): AssumeRole in the awsQuery protocol (a form-encoded POST,
 * an XML answer), answering with the credentials given, or an error in
 * STS's ErrorResponse shape. No signature is checked; the key id the
 * call was signed with is recorded. Nothing else of STS is there.
 */
export async function startSts(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): Promise<TestSts> {
  const calls: StsCall[] = [];
  let failure: { code: string; message: string } | undefined;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const signedWith = /Credential=([^/]+)\//.exec(request.headers.authorization ?? '')?.[1];
      calls.push({ action: form.get('Action'), roleArn: form.get('RoleArn'), signedWith });
      const id = `req-${calls.length}`;
      if (failure || form.get('Action') !== 'AssumeRole') {
        const { code, message } = failure ?? { code: 'InvalidAction', message: `Could not find operation ${form.get('Action') ?? ''}` };
        response.writeHead(failure ? 403 : 400, { 'content-type': 'text/xml', 'x-amzn-requestid': id });
        response.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`);
        return;
      }
      const session = form.get('RoleSessionName') ?? 'session';
      response.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': id });
      response.end(
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
          `<Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
          `<SessionToken>${credentials.sessionToken}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>` +
          `<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/ctlake-test/${session}</Arn><AssumedRoleId>AROATEST:${session}</AssumedRoleId></AssumedRoleUser>` +
          `</AssumeRoleResult><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failWith: (error) => {
      failure = error;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
