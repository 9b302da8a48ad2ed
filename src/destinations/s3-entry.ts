/**
 * S3 for library users, as its own entry point: `import { s3Store } from
 * 'ctlake/s3'`. Kept out of `ctlake` itself so that importing the exporter
 * does not load the S3 client (about a third of the SDK code ctlake uses)
 * for users who never write to S3; an `out` of `s3://...` loads it on
 * demand.
 */
export { createS3Client, s3Store } from './s3.js';
export type { S3ClientOptions, S3WriteOptions, ServerSideEncryption } from './s3.js';
