import { CtlakeError } from '../errors.js';
import { localStore, type ObjectStore } from '../destinations/store.js';
import { parseTarget } from '../destinations/target.js';
import { verifyDataset } from '../dataset/verify.js';
import { isDelivery, verifyDeliveryFolder } from '../dataset/verify-delivery.js';
import { manifestRepair } from '../dataset/manifest.js';
import { clientOptions, s3ClientOptions, usage } from './args.js';
import { word } from './flag-readers.js';
import { commandHelp, parseFlags, type CommandSpec } from './flag-table.js';
import { EXIT } from './exit-codes.js';
import type { CliIO } from './cli-io.js';
import { formatBytes } from './units.js';

export const VERIFY_SPEC = {
  name: 'verify',
  usage: 'verify DATASET|DELIVERY [--json]',
  positionals: true,
  description: `Re-read a dataset that ctlake export wrote (a folder or s3://bucket/prefix/)
and check it against its _manifest.json: _SUCCESS is there; every file is
there with its size, SHA-256 and row count (the Parquet footer's, or the
NDJSON lines); each export's files add up to its query's TotalResultsCount;
and no other file is there. Every file is read once, streamed. The report
goes to stdout: 'OK' and the totals, or one line per problem; then one
'warning:' line for each temporary file or lock that a killed or running
export left (the next export removes or takes it over), which alone does
not fail the check. A symbolic link in the dataset is a problem: ctlake
never follows one there.

DELIVERY: the folder (or s3://bucket/prefix/) of one query whose results
Lake delivered itself (StartQuery DeliveryS3Uri), .../CloudTrail-Lake/Query/
YYYY/MM/DD/QUERY_ID/, found by its result_sign.json (or named with
--delivery). As 'aws cloudtrail verify-query-results' does: every
result_N.csv.gz it lists has the SHA-256 it lists, the signature verifies
with CloudTrail's public key of the query's region (ListPublicKeys, through
--region, --profile and --endpoint-url; the region defaults to the sign
file's), and the folder holds no unsigned file. See docs/delivery.md.`,
  flags: {
    json: { type: 'boolean', help: 'The report as one JSON object' },
    delivery: { type: 'boolean', help: "Check the path as a Lake delivery, even without a result_sign.json (then: that it is missing)" },
    region: { type: 'string', value: 'REGION', option: 'region', help: "AWS region of the bucket, and of ListPublicKeys (default: AWS_REGION, then the sign file's)" },
    profile: { type: 'string', value: 'NAME', option: 'profile', help: "AWS profile (default: AWS_PROFILE, then 'default')" },
    'endpoint-url': { type: 'string', value: 'URL', option: 'endpointUrl', help: 'CloudTrail endpoint for ListPublicKeys (default: AWS_ENDPOINT_URL_CLOUDTRAIL, then AWS_ENDPOINT_URL)' },
    's3-endpoint-url': { type: 'string', value: 'URL', option: 's3EndpointUrl', help: 'An S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3)' },
    's3-force-path-style': { type: 'boolean', option: ['s3ForcePathStyle', 'forcePathStyle'], help: 'Path-style S3 addressing (MinIO, Ceph, most S3-compatible stores)' },
    'log-format': {
      type: 'string',
      read: word(['text', 'json'] as const),
      value: 'text|json',
      help: 'The error line as text, or as one JSON object (default: text on a terminal, json elsewhere; or CTLAKE_LOG_FORMAT)',
    },
    help: { type: 'boolean', short: 'h', help: 'Show this help' },
  },
  footer: `Exit codes: 0 the dataset matches its manifest (the delivery its signature),
5 it does not, or the manifest (sign file) cannot be read or has faults (the
problems are on stdout), 1 failure (cannot list the folder, or
ListPublicKeys fails), 2 usage error.`,
} as const satisfies CommandSpec;

/** `ctlake verify`: a dataset against its manifest. The report is the command's output, so it goes to stdout. */
export async function verifyCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(VERIFY_SPEC, args);
  if (values.help) {
    io.stdout.write(commandHelp(VERIFY_SPEC));
    return EXIT.OK;
  }
  if (positionals.length !== 1) throw usage('give one DATASET: a folder or s3://bucket/prefix/ that ctlake export wrote');
  const named = positionals[0]!;
  const target = parseTarget(named.endsWith('/') ? named : `${named}/`);
  if (target?.kind !== 'dataset') throw usage(`DATASET must be a folder or s3://bucket/prefix/, not '${named}'`);
  let store: ObjectStore;
  let close = () => {};
  if (target.store.kind === 'local') store = localStore(target.store.dir);
  else {
    const { createS3Client, s3Store } = await import('../destinations/s3.js');
    const s3 = createS3Client({ region: values.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION, profile: values.profile, endpointUrl: s3ClientOptions(values, io).s3EndpointUrl, forcePathStyle: values['s3-force-path-style'] });
    store = s3Store(s3, target.store.bucket, target.store.prefix, { partSizeBytes: 8 * 1024 * 1024, queueSize: 1 });
    close = () => s3.destroy();
  }
  try {
    if (values.delivery || (await isDelivery(store))) return await verifyDelivered(store, values, io);
    const report = await verifyDataset(store);
    if (values.json) io.stdout.write(JSON.stringify(report) + '\n');
    else if (report.ok) {
      io.stdout.write(`OK ${report.dataset}: ${report.exports} exports, ${report.files} files, ${report.rows} rows, ${formatBytes(report.bytes)}\n`);
    } else {
      for (const line of report.problems) io.stdout.write(`${line}\n`);
    }
    if (!values.json) for (const line of report.warnings) io.stdout.write(`warning: ${line}\n`);
    if (report.ok) return EXIT.OK;
    const count = report.problems.length;
    const fix = report.manifestFaulty ? manifestRepair().replace(/^nothing was written; /, '') : 'rerun the export that wrote it';
    throw new CtlakeError('VERIFY_FAILED', `${report.dataset} does not match its manifest: ${count} problem${count === 1 ? '' : 's'} (listed on stdout); ${fix}`);
  } finally {
    close();
  }
}

/** The delivery check of `ctlake verify`: ListPublicKeys through a CloudTrail client built from the flags, asked only once the sign file is read. */
async function verifyDelivered(store: ObjectStore, values: { json?: boolean | undefined; region?: string | undefined; profile?: string | undefined; 'endpoint-url'?: string | undefined }, io: CliIO): Promise<number> {
  const [{ createCloudTrailClient }, { publicKeysAround }, { resolveRetry }] = await Promise.all([
    import('../source/cloudtrail-client.js'),
    import('../source/delivery-sign.js'),
    import('../source/retry.js'),
  ]);
  // Built when the sign file has named its region (verifyDeliveryFolder asks for the keys once).
  let client: { destroy(): void } | undefined;
  try {
    const report = await verifyDeliveryFolder(store, {
      publicKeys: (time, region) => {
        const options = clientOptions(values, io);
        const cloudtrail = createCloudTrailClient({ ...options, region: options.region ?? region });
        client = cloudtrail;
        return publicKeysAround(cloudtrail, time, { signal: io.signal, retry: resolveRetry(io.retry) });
      },
    });
    // The JSON report keeps its fields; the sign file itself is the delivery's, not the report's.
    const { sign: _sign, ...shown } = report;
    if (values.json) io.stdout.write(JSON.stringify(shown) + '\n');
    else if (report.ok) io.stdout.write(`OK ${report.delivery}: ${report.files.length} file${report.files.length === 1 ? '' : 's'}, ${formatBytes(report.bytes)}, signed by key ${report.fingerprint} (${report.region}, ${report.queryCompleteTime})\n`);
    else for (const line of report.problems) io.stdout.write(`${line}\n`);
    if (report.ok) return EXIT.OK;
    const count = report.problems.length;
    throw new CtlakeError('VERIFY_FAILED', `${report.delivery} is not the delivery Lake signed: ${count} problem${count === 1 ? '' : 's'} (listed on stdout); fetch the files again from where Lake delivered them, or run the query again`);
  } finally {
    client?.destroy();
  }
}
