import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLakeStoreType, LAKE_STORE_TYPES, lakeColumn, lakeSchema, lakeTypeAt, type LakeColumn } from '../src/rows/lake-schema.js';
import { formatLakeType, LakeTypeSyntaxError, parseLakeType } from '../src/rows/lake-type.js';

const DIR = fileURLToPath(new URL('../src/rows/lake-schemas/', import.meta.url));
const text = (storeType: string, path: string) => {
  const t = lakeTypeAt(lakeSchema(storeType as never), path);
  return t === null ? null : formatLakeType(t);
};

/** Whether `short` is `long` with some characters deleted, and how many. */
function deletions(long: string, short: string): number | null {
  let j = 0;
  for (let i = 0; i < long.length && j < short.length; i++) if (long[i] === short[j]) j++;
  return j === short.length ? long.length - short.length : null;
}

describe('the shipped Lake schemas', () => {
  it('ships one file a store type, and every store type has a file', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
    expect(files.sort()).toEqual([...LAKE_STORE_TYPES].sort());
    expect(readdirSync(DIR)).toContain('README.md');
  });

  it('parses every column of every file, and prints each type back as shipped', () => {
    for (const storeType of LAKE_STORE_TYPES) {
      const schema = lakeSchema(storeType);
      expect(schema.storeType).toBe(storeType);
      expect(schema.columns.length).toBeGreaterThan(5);
      const raw = JSON.parse(readFileSync(`${DIR}${storeType}.json`, 'utf8')) as { columns: { name: string; type: string }[] };
      expect(schema.columns.map((c) => c.name)).toEqual(raw.columns.map((c) => c.name));
      for (const [i, column] of schema.columns.entries()) {
        // round trip: the printed type is the shipped text, which is the published text without whitespace
        expect(formatLakeType(column.type)).toBe(raw.columns[i]!.type.replace(/\s+/g, ''));
        expect(column.typeText).toBe(formatLakeType(column.type));
        expect(parseLakeType(column.typeText)).toEqual(column.type);
      }
    }
  });

  it('names its source: the CloudTrail user guide page, the copy read, and the day', () => {
    for (const storeType of LAKE_STORE_TYPES) {
      const { source } = lakeSchema(storeType);
      expect(source.url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/awscloudtrail\/latest\/userguide\/query-supported-event-schemas\.html#query-supported-/);
      expect(source.title).toMatch(/^Supported SQL schemas for event data stores: /);
      expect(source.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(source.copy).toMatch(/^github:[^/]+\/[^@]+@[0-9a-f]{40}:docs\/awscloudtrail\//);
    }
  });

  it('keeps the published text where it had to be corrected: stray characters deleted, and two misspelt field names given their real spelling', () => {
    const corrected = LAKE_STORE_TYPES.flatMap((s) => lakeSchema(s).columns.filter((c) => c.published !== null).map((c) => [s, c] as const));
    expect(corrected.map(([s, c]) => `${s}.${c.name}`)).toEqual(['cloudtrail-events.useridentity', 'integration-events.eventdata']);
    const [[, useridentity], [, eventdata]] = corrected as [[string, LakeColumn], [string, LakeColumn]];
    // Lake's field is credentialsIssuedTo (CloudTrail's record); the page misspells it.
    expect(useridentity.published!.replace('credentiaisissuedto', 'credentialsissuedto')).toBe(useridentity.typeText);
    expect(() => parseLakeType(eventdata.published!)).toThrow(LakeTypeSyntaxError);
    const fixed = eventdata.published!.replace('errormssage', 'errormessage');
    expect(deletions(fixed, eventdata.typeText)).toBe(4);
    expect(fixed.replace(/"/g, '').replace(/string>>,(?!useragent)/g, 'string>,')).toBe(eventdata.typeText);
  });

  it('types the known CloudTrail event paths as published', () => {
    expect(text('cloudtrail-events', 'eventtime')).toBe('timestamp');
    expect(text('cloudtrail-events', 'useridentity.sessioncontext.attributes.creationdate')).toBe('timestamp');
    expect(text('cloudtrail-events', 'useridentity.sessioncontext.attributes.mfaauthenticated')).toBe('string');
    expect(text('cloudtrail-events', 'useridentity.sessioncontext.sessionissuer.arn')).toBe('string');
    expect(text('cloudtrail-events', 'useridentity.sessioncontext.webidfederationdata.attributes')).toBe('map<string,string>');
    expect(text('cloudtrail-events', 'useridentity.onbehalfof.identitystorearn')).toBe('string');
    expect(text('cloudtrail-events', 'requestparameters')).toBe('map<string,string>');
    expect(text('cloudtrail-events', 'resources')).toBe('array<struct<accountid:string,type:string,arn:string,arnprefix:string>>');
    expect(text('cloudtrail-events', 'readonly')).toBe('boolean');
    expect(text('cloudtrail-events', 'managementevent')).toBe('boolean');
    expect(text('cloudtrail-events', 'tlsdetails.clientprovidedhostheader')).toBe('string');
  });

  it('resolves paths without regard to case, and as arrays of steps', () => {
    expect(text('cloudtrail-events', 'userIdentity.sessionContext.sessionIssuer.ARN')).toBe('string');
    expect(text('cloudtrail-events', 'EVENTTIME')).toBe('timestamp');
    const ct = lakeSchema('cloudtrail-events');
    expect(lakeTypeAt(ct, ['useridentity', 'sessioncontext', 'attributes', 'creationdate'])).toEqual({ kind: 'timestamp' });
    expect(lakeColumn(ct, 'EventName')?.name).toBe('eventname');
    expect(ct.byName).toBeInstanceOf(Map);
  });

  it('answers null for paths that name nothing, hostile names included', () => {
    const ct = lakeSchema('cloudtrail-events');
    for (const path of ['nope', 'useridentity.nope', 'eventtime.x', 'resources.arn', 'requestparameters.bucketName', '', '__proto__', 'constructor', 'useridentity.__proto__', 'useridentity.constructor', 'toString']) {
      expect(lakeTypeAt(ct, path)).toBeNull();
    }
    expect(lakeTypeAt(ct, [])).toBeNull();
    expect(lakeColumn(ct, '__proto__')).toBeNull();
  });

  it('types the other stores as published', () => {
    expect(text('cloudtrail-insights', 'insightcontext.baselineduration')).toBe('integer');
    expect(text('cloudtrail-insights', 'insightContext.attributions.insight.average')).toBe('double');
    expect(lakeColumn(lakeSchema('cloudtrail-insights'), 'insightcontext')?.name).toBe('insightContext');
    expect(text('config-configuration-items', 'eventdata.configurationitemcapturetime')).toBe('string');
    expect(text('config-configuration-items', 'eventdata.relationships.resourceid')).toBe('string');
    expect(text('audit-manager-evidence', 'eventdata.time')).toBe('timestamp');
    expect(text('audit-manager-evidence', 'eventdata.attributes')).toBe('map<string,string>');
    expect(text('integration-events', 'eventdata.useridentity.details')).toBe('map<string,string>');
    expect(text('integration-events', 'eventdata.additionaleventdata')).toBe('map<string,string>');
    expect(text('integration-events', 'addendum.originaluid')).toBe('string');
    expect(text('integration-events', 'metadata.channelarn')).toBe('string');
    for (const storeType of LAKE_STORE_TYPES) expect(text(storeType, 'eventtime')).toBe('timestamp');
  });

  it('carries the fixed eventcategory and eventtype the page names', () => {
    const fixed = Object.fromEntries(LAKE_STORE_TYPES.map((s) => [s, [lakeSchema(s).eventCategory, lakeSchema(s).eventType]]));
    expect(fixed).toEqual({
      'cloudtrail-events': [null, null],
      'cloudtrail-insights': ['Insight', 'AwsCloudTrailInsight'],
      'config-configuration-items': ['ConfigurationItem', 'AwsConfigurationItem'],
      'audit-manager-evidence': ['Evidence', 'AwsAuditManagerEvidence'],
      'integration-events': ['ActivityAuditLog', 'ActivityLog'],
    });
  });

  it('loads each schema once, and refuses an unknown store type', () => {
    expect(lakeSchema('cloudtrail-events')).toBe(lakeSchema('cloudtrail-events'));
    expect(isLakeStoreType('cloudtrail-events')).toBe(true);
    expect(isLakeStoreType('__proto__')).toBe(false);
    expect(isLakeStoreType(undefined)).toBe(false);
    expect(() => lakeSchema('cloudtrail' as never)).toThrow(/storeType must be one of cloudtrail-events, .* not "cloudtrail"/);
    expect(() => lakeSchema('__proto__' as never)).toThrow(TypeError);
  });
});
