import type { FlagSpec } from './flag-table.js';

/**
 * How a command reaches AWS: the flags every command that calls CloudTrail
 * has, declared once. Data only (it loads nothing but a type), so that
 * every flag table that includes it stays cheap to read.
 */
export const AWS_FLAGS = {
  region: { type: 'string', value: 'REGION', option: 'region', help: "AWS region (default: AWS_REGION, then the profile's)" },
  profile: {
    type: 'string',
    value: 'NAME',
    option: 'profile',
    help: "AWS profile, read as AWS_PROFILE is, its endpoint_url and services included (default: AWS_PROFILE, then 'default')",
  },
  'endpoint-url': {
    type: 'string',
    value: 'URL',
    option: 'endpointUrl',
    help: "CloudTrail endpoint, e.g. a local emulator (default: AWS_ENDPOINT_URL_CLOUDTRAIL, then AWS_ENDPOINT_URL, then the profile's)",
  },
} as const satisfies Record<string, FlagSpec>;
