import { fileURLToPath } from 'node:url';

/** Where an export goes, as `--out` names it. */
export type Target =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 's3'; bucket: string; key: string }
  | { kind: 'dataset'; store: { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string } };

/**
 * Reads `--out`: `-` is stdout, and so are `/dev/stdout`, `/dev/fd/1` and
 * `/proc/self/fd/1` (whatever fd 1 is: a pipe, a terminal, a file, or a
 * socket, which cannot be opened by name); `s3://bucket/key` one object; a path or
 * `file://` URL one file; and anything ending in `/` (local or S3) a
 * dataset folder. Undefined when it is none of these (an S3 URL with no
 * bucket or no key, a `file://` URL that is not a path).
 */
export function parseTarget(out: string): Target | undefined {
  if (out === '-') return { kind: 'stdout' };
  if (out.startsWith('s3://')) {
    const url = parseS3Url(out);
    if (!url || url.bucket === '' || url.key === '' && !out.endsWith('/')) return undefined;
    if (out.endsWith('/')) return { kind: 'dataset', store: { kind: 's3', bucket: url.bucket, prefix: url.key } };
    return { kind: 's3', bucket: url.bucket, key: url.key };
  }
  let path = out;
  if (out.startsWith('file://')) {
    try {
      path = fileURLToPath(out);
    } catch {
      return undefined;
    }
    if (out.endsWith('/') && !path.endsWith('/')) path += '/';
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(out)) {
    return undefined;
  }
  if (path.endsWith('/')) return { kind: 'dataset', store: { kind: 'local', dir: path } };
  if (OWN_STDOUT.test(path)) return { kind: 'stdout' };
  return { kind: 'file', path };
}

/** This process's standard output by name: written as `-` is, not opened (a socket cannot be) nor replaced. */
const OWN_STDOUT = process.platform === 'win32' ? /^$/ : /^\/dev\/(?:stdout|fd\/1)$|^\/proc\/self\/fd\/1$/;

/** `s3://bucket/key` to its parts; the key may be empty (`s3://bucket/`). */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/s.exec(url);
  if (!match) return undefined;
  return { bucket: match[1]!, key: match[2]! };
}
