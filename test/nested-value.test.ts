import { describe, expect, it } from 'vitest';
import { lakeColumn, lakeSchema } from '../src/rows/lake-schema.js';
import { parseLakeType, type LakeType } from '../src/rows/lake-type.js';
import { MAX_NESTED_TEXT_LENGTH, readNested, type NestedReading, type NestedValue } from '../src/rows/nested-value.js';

const events = lakeSchema('cloudtrail-events');
const column = (name: string): LakeType => lakeColumn(events, name)!.type;
const USER_IDENTITY = column('useridentity');
const REQUEST_PARAMETERS = column('requestparameters');
const RESOURCES = column('resources');
const TLS_DETAILS = column('tlsdetails');
const t = (text: string) => parseLakeType(text);

function value(text: string, type: LakeType): NestedValue {
  const reading = readNested(text, type);
  if (!reading.ok) throw new Error(`expected ok, got: ${reading.reason}`);
  return reading.value;
}

function refused(text: string, type: LakeType): string {
  const reading = readNested(text, type);
  if (reading.ok) throw new Error(`expected ok:false, got ${String(JSON.stringify(reading.value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))}`);
  return reading.reason;
}

const ms = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`);

// useridentity's fields in the published order: type, principalid, arn, accountid, accesskeyid, username,
// sessioncontext{attributes{creationdate, mfaauthenticated}, sessionissuer{type, principalid, arn, accountid, username},
// webidfederationdata{federatedprovider, attributes}, sourceidentity, ec2roledelivery, ec2issuedinvpc},
// onbehalfof{userid, identitystorearn}, inscopeof{sourcearn, sourceaccount, issuertype, credentialsissuedto}, invokedby, identityprovider
const ASSUMED_ROLE =
  '{type=AssumedRole, principalid=AROAEXAMPLEID:alice, arn=arn:aws:sts::123456789012:assumed-role/Admin/alice, accountid=123456789012, accesskeyid=ASIAEXAMPLEKEY, username=null, ' +
  'sessioncontext={attributes={creationdate=2023-01-22 16:50:01.000, mfaauthenticated=true}, sessionissuer={type=Role, principalid=AROAEXAMPLEID, arn=arn:aws:iam::123456789012:role/Admin, accountid=123456789012, username=Admin}, ' +
  'webidfederationdata=null, sourceidentity=null, ec2roledelivery=null, ec2issuedinvpc=null}, onbehalfof=null, inscopeof=null, invokedby=null, identityprovider=null}';

describe('readNested on useridentity', () => {
  it('reads an AssumedRole identity with its session context, in the type order', () => {
    expect(value(ASSUMED_ROLE, USER_IDENTITY)).toEqual([
      'AssumedRole',
      'AROAEXAMPLEID:alice',
      'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      '123456789012',
      'ASIAEXAMPLEKEY',
      null,
      [
        [ms('2023-01-22 16:50:01.000'), 'true'],
        ['Role', 'AROAEXAMPLEID', 'arn:aws:iam::123456789012:role/Admin', '123456789012', 'Admin'],
        null,
        null,
        null,
        null,
      ],
      null,
      null,
      null,
      null,
    ]);
  });

  it('reads an IAMUser and an AWSService identity with invokedby', () => {
    expect(
      value(
        '{type=IAMUser, principalid=AIDAEXAMPLE, arn=arn:aws:iam::123456789012:user/bob, accountid=123456789012, accesskeyid=AKIAEXAMPLE, username=bob, sessioncontext=null, onbehalfof=null, inscopeof=null, invokedby=null, identityprovider=null}',
        USER_IDENTITY,
      ),
    ).toEqual(['IAMUser', 'AIDAEXAMPLE', 'arn:aws:iam::123456789012:user/bob', '123456789012', 'AKIAEXAMPLE', 'bob', null, null, null, null, null]);
    expect(
      value(
        '{type=AWSService, principalid=null, arn=null, accountid=null, accesskeyid=null, username=null, sessioncontext=null, onbehalfof=null, inscopeof=null, invokedby=cloudtrail.amazonaws.com, identityprovider=null}',
        USER_IDENTITY,
      ),
    ).toEqual(['AWSService', null, null, null, null, null, null, null, null, 'cloudtrail.amazonaws.com', null]);
  });

  it('reads web identity federation, whose attributes are a map', () => {
    const text =
      '{type=WebIdentityUser, principalid=accounts.google.com:1234, arn=null, accountid=null, accesskeyid=null, username=null, sessioncontext={attributes={creationdate=2023-01-22 16:50:01.000, mfaauthenticated=false}, sessionissuer=null, ' +
      'webidfederationdata={federatedprovider=accounts.google.com, attributes={accounts.google.com:aud=1234.apps.googleusercontent.com, accounts.google.com:sub=5678}}, sourceidentity=null, ec2roledelivery=null, ec2issuedinvpc=null}, onbehalfof=null, inscopeof=null, invokedby=null, identityprovider=null}';
    const identity = value(text, USER_IDENTITY) as NestedValue[];
    expect((identity[6] as NestedValue[])[2]).toEqual([
      'accounts.google.com',
      [
        ['accounts.google.com:aud', '1234.apps.googleusercontent.com'],
        ['accounts.google.com:sub', '5678'],
      ],
    ]);
  });

  it('takes fields in any order and gives the fields the text lacks null', () => {
    expect(value('{invokedby=s3.amazonaws.com, type=AWSService}', USER_IDENTITY)).toEqual(['AWSService', null, null, null, null, null, null, null, null, 's3.amazonaws.com', null]);
    expect(value('{TYPE=Root}', USER_IDENTITY)).toEqual(['Root', null, null, null, null, null, null, null, null, null, null]);
  });

  it('matches field names printed in order, out of order or in another case, and never a name that only starts or ends like one', () => {
    const mixed = t('struct<insightContext:string,Arn:string,arnprefix:string>');
    expect(value('{insightcontext=a, arn=b, arnprefix=c}', mixed)).toEqual(['a', 'b', 'c']);
    expect(value('{arnprefix=c, insightcontext=a, arn=b}', mixed)).toEqual(['a', 'b', 'c']);
    expect(value('{insightContext=a, Arn=b, ARNPREFIX=c}', mixed)).toEqual(['a', 'b', 'c']);
    expect(value('{arn=b, arnprefix=c}', mixed)).toEqual([null, 'b', 'c']);
    expect(refused('{insightcontext=a, ar=b}', mixed)).toContain('"ar" is not a field');
    expect(refused('{insightcontext=a, arnp=b}', mixed)).toContain('"arnp" is not a field');
    expect(refused('{insightcontext=a, arnprefixx=b}', mixed)).toContain('"arnprefixx" is not a field');
    // A name met again after the one that follows it in the type is a repeat, weighed as such.
    expect(value('{insightcontext=a, arn=b, insightcontext=c}', mixed)).toEqual(['a', 'b, insightcontext=c', null]);
  });

  it('ends a key only at "=", and never takes text with white space, a bracket or "," for one, whatever the character', () => {
    const ab = t('struct<a:string,b:string>');
    for (const space of ['\t', '\n', '\r', '\u000b', '\u000c', ' ', '\u00a0', '\u2028', '\u3000', '\ufeff']) {
      expect(value(`{a=x, b${space}c=y}`, ab)).toEqual([`x, b${space}c=y`, null]);
    }
    // Characters past the brackets in ASCII, DEL, non-ASCII and astral ones are plain text, in values and keys alike.
    expect(value('{a=~|\u007f\u0080é🚀, b=z}', ab)).toEqual(['~|\u007f\u0080é🚀', 'z']);
    expect(refused('{a=x, é=y}', ab)).toContain('"é" is not a field');
    expect(value('{a=x, é=y, 🚀=z}', t('map<string,string>'))).toEqual([
      ['a', 'x'],
      ['é', 'y'],
      ['🚀', 'z'],
    ]);
    expect(value('{a=[{x}], b=}', ab)).toEqual(['[{x}]', '']);
    expect(refused('{a=[x}, b=y}', ab)).toContain('brackets that do not match');
  });

  it('reads null at each level', () => {
    expect(value('null', USER_IDENTITY)).toBeNull();
    expect(value('{type=null, sessioncontext={attributes=null, sessionissuer={type=null}}}', USER_IDENTITY)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      [null, [null, null, null, null, null], null, null, null, null],
      null,
      null,
      null,
      null,
    ]);
    expect(value('{sessioncontext={attributes={creationdate=null, mfaauthenticated=null}}}', USER_IDENTITY)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      [[null, null], null, null, null, null, null],
      null,
      null,
      null,
      null,
    ]);
  });

  it('refuses a scalar that does not fit its field, naming the path', () => {
    const reason = refused('{type=AssumedRole, sessioncontext={attributes={creationdate=yesterday, mfaauthenticated=true}}}', USER_IDENTITY);
    expect(reason).toContain('sessioncontext.attributes.creationdate');
    expect(reason).toContain('"yesterday"');
    const long = refused(`{sessioncontext={attributes={creationdate=${'x'.repeat(10_000)}}}}`, USER_IDENTITY);
    expect(long.length).toBeLessThan(300);
  });

  it('refuses a field the type lacks, never dropping it', () => {
    expect(refused('{type=AssumedRole, sessionname=alice}', USER_IDENTITY)).toContain('"sessionname" is not a field');
    // The page's misspelling, which the shipped type corrects to CloudTrail's credentialsissuedto
    expect(refused('{inscopeof={sourcearn=a, sourceaccount=b, issuertype=c, credentiaisissuedto=d}}', USER_IDENTITY)).toContain('inscopeof');
    expect(readNested('{inscopeof={sourcearn=a, sourceaccount=b, issuertype=c, credentialsissuedto=d}}', USER_IDENTITY).ok).toBe(true);
    expect(refused('{__proto__=x}', USER_IDENTITY)).toContain('"__proto__" is not a field');
  });

  it('refuses a struct that names no field, and text that is not a struct', () => {
    expect(refused('{}', USER_IDENTITY)).toContain('names no field');
    expect(refused('[type=x]', USER_IDENTITY)).toContain('expected a struct');
    expect(refused('{type=x}, ', USER_IDENTITY)).toContain('after the struct');
    expect(refused('{type=x}}', USER_IDENTITY)).toContain('after the struct');
    expect(refused('{type=x', USER_IDENTITY)).toBeTruthy();
    expect(refused('', USER_IDENTITY)).toBe('the text is empty');
  });
});

describe('readNested on a struct whose field names repeat', () => {
  const attributes = t('struct<creationdate:timestamp,mfaauthenticated:string>');
  const resource = t('struct<accountid:string,type:string,arn:string,arnprefix:string>');

  it('reads the one reading that fits the field types', () => {
    // creationdate is a timestamp, so it cannot hold ", mfaauthenticated=false": the string field holds the second name
    expect(value('{creationdate=2023-01-22 16:50:01.000, mfaauthenticated=false, mfaauthenticated=true}', attributes)).toEqual([
      ms('2023-01-22 16:50:01.000'),
      'false, mfaauthenticated=true',
    ]);
    // the first piece is always a field, so the repeat belongs to its string
    expect(value('{accountid=1, accountid=2, type=t, arn=a, arnprefix=p}', resource)).toEqual(['1, accountid=2', 't', 'a', 'p']);
  });

  it('refuses a text that reads more than one way, or none', () => {
    expect(refused('{type=x, arn=y, arn=z}', resource)).toContain('more than one way');
    expect(refused('{creationdate=2023-01-22 16:50:01.000, creationdate=2023-01-22 16:50:02.000}', attributes)).toContain('no choice');
    expect(refused(`{accountid=1${', arn=x'.repeat(100)}}`, resource)).toContain('too often');
  });

  it('does not let a string take in a piece that is not plain text', () => {
    const nested = t('struct<a:string,b:map<string,string>>');
    expect(refused('{a=x, b={k=v, w=z}, b=null}', nested)).toContain('no choice');
    expect(value('{a=x, b=null, b={k=v}}', nested)).toEqual(['x, b=null', [['k', 'v']]]);
  });
});

describe('readNested on maps', () => {
  it('reads requestparameters, keeping values as printed', () => {
    expect(value('{bucketName=my-bucket, Host=my-bucket.s3.us-east-1.amazonaws.com, acl=}', REQUEST_PARAMETERS)).toEqual([
      ['bucketName', 'my-bucket'],
      ['Host', 'my-bucket.s3.us-east-1.amazonaws.com'],
      ['acl', ''],
    ]);
    expect(value('{}', REQUEST_PARAMETERS)).toEqual([]);
    expect(value('null', REQUEST_PARAMETERS)).toBeNull();
    expect(value('{a=null, b=x}', REQUEST_PARAMETERS)).toEqual([
      ['a', null],
      ['b', 'x'],
    ]);
  });

  it('keeps nested JSON text as one string, whatever it holds', () => {
    const credentials = '{"accessKeyId":"ASIAEXAMPLE","sessionToken":"IQoJb3JpZ2luX2VjE","expiration":"Jan 22, 2023, 5:50:01 PM"}';
    expect(value(`{credentials=${credentials}, assumedRoleUser={"arn":"arn:aws:sts::1:assumed-role/r/s"}}`, REQUEST_PARAMETERS)).toEqual([
      ['credentials', credentials],
      ['assumedRoleUser', '{"arn":"arn:aws:sts::1:assumed-role/r/s"}'],
    ]);
    expect(value('{tags=[{"a":1}], filter={"k":"v, x=y"}, empty=[], list=[1,2]}', REQUEST_PARAMETERS)).toEqual([
      ['tags', '[{"a":1}]'],
      ['filter', '{"k":"v, x=y"}'],
      ['empty', '[]'],
      ['list', '[1,2]'],
    ]);
    const policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}}]}';
    expect(value(`{policy=${policy}}`, REQUEST_PARAMETERS)).toEqual([['policy', policy]]);
    // brackets inside JSON strings need not balance
    expect(value('{p={"a":"]"}, q=1}', REQUEST_PARAMETERS)).toEqual([
      ['p', '{"a":"]"}'],
      ['q', '1'],
    ]);
  });

  it('refuses JSON-looking text that is not canonical, or reads two ways', () => {
    expect(refused('{p={"a": "x, b=c"}}', REQUEST_PARAMETERS)).toContain('separator inside brackets');
    // as JSON, p is {"a":"}, q={"}; as plain text, p is {"a":"} and q is {"}
    expect(refused('{p={"a":"}, q={"}, r=1}', REQUEST_PARAMETERS)).toContain('both as JSON');
  });

  it('reads values holding ", " that no key follows, and "=" in the last value', () => {
    expect(value('{ua=Mozilla/5.0 (X11, Linux x86_64), q=x, y, filter=a=b}', REQUEST_PARAMETERS)).toEqual([
      ['ua', 'Mozilla/5.0 (X11, Linux x86_64)'],
      ['q', 'x, y'],
      ['filter', 'a=b'],
    ]);
    // a value holding "=" before another entry may be one value holding ", KEY=": Presto prints {q: "a=b, c=d"} so
    expect(refused('{filter=a=b, ua=Mozilla}', REQUEST_PARAMETERS)).toContain('holds "="');
    expect(refused('{x-amz-id-2=abc=, def=}', REQUEST_PARAMETERS)).toContain('holds "="');
    // JSON text is read whole, "=" or not
    expect(value('{policy={"a":"b=c, d=e"}, q=x}', REQUEST_PARAMETERS)).toEqual([
      ['policy', '{"a":"b=c, d=e"}'],
      ['q', 'x'],
    ]);
    // parentheses are plain text: a value holding "(" is ordinary
    expect(value('{a=:(, b=x)}', REQUEST_PARAMETERS)).toEqual([
      ['a', ':('],
      ['b', 'x)'],
    ]);
  });

  it('reads unicode and emoji keys and values', () => {
    expect(value('{名前=値 🎉, emoji🔑=✓ ok, ключ=значение}', REQUEST_PARAMETERS)).toEqual([
      ['名前', '値 🎉'],
      ['emoji🔑', '✓ ok'],
      ['ключ', 'значение'],
    ]);
  });

  it('keeps hostile keys as data', () => {
    const read = value('{__proto__=polluted, constructor=x, toString=y, hasOwnProperty=z}', REQUEST_PARAMETERS);
    expect(read).toEqual([
      ['__proto__', 'polluted'],
      ['constructor', 'x'],
      ['toString', 'y'],
      ['hasOwnProperty', 'z'],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(read)).toBe(Array.prototype);
  });

  it('refuses a repeated key, a separator inside brackets, and unbalanced brackets', () => {
    expect(refused('{a=x, a=y}', REQUEST_PARAMETERS)).toContain('"a" appears twice');
    expect(refused('{a=[x, b=y]}', REQUEST_PARAMETERS)).toContain('separator inside brackets');
    expect(refused('{a=x[, b=y}', REQUEST_PARAMETERS)).toBeTruthy();
    expect(refused('{a=x], b=y}', REQUEST_PARAMETERS)).toContain('unmatched ]');
    expect(refused('{a=x}y', REQUEST_PARAMETERS)).toContain('after the map');
    expect(refused('{a=x', REQUEST_PARAMETERS)).toBeTruthy();
    expect(refused('{a}', REQUEST_PARAMETERS)).toContain('expected a map key');
  });

  it('refuses a would-be key with white space or none after the first', () => {
    expect(refused('{q=SELECT a, b FROM t WHERE x=1}', REQUEST_PARAMETERS)).toContain('white space');
    expect(refused('{a=x, =y}', REQUEST_PARAMETERS)).toContain('white space');
    expect(value('{a b=c}', REQUEST_PARAMETERS)).toEqual([['a b', 'c']]);
    expect(value('{=c}', REQUEST_PARAMETERS)).toEqual([['', 'c']]);
  });

  it('checks keys against a key type other than string', () => {
    const byInt = t('map<int,string>');
    expect(value('{1=a, -2=b}', byInt)).toEqual([
      ['1', 'a'],
      ['-2', 'b'],
    ]);
    expect(refused('{x=a}', byInt)).toContain('"x" is not a whole number');
    expect(refused('{null=a}', byInt)).toContain('null');
    expect(refused('{1=a, +1=b}', byInt)).toContain('appears twice');
    expect(value('{null=a}', REQUEST_PARAMETERS)).toEqual([['null', 'a']]);
  });
});

describe('readNested on arrays', () => {
  const S3 = ['123456789012', 'AWS::S3::Bucket', 'arn:aws:s3:::my-bucket', null];

  it('reads resources, split where each struct ends', () => {
    expect(
      value(
        '[{accountid=123456789012, type=AWS::S3::Bucket, arn=arn:aws:s3:::my-bucket, arnprefix=null}, {accountid=null, type=AWS::S3::Object, arn=arn:aws:s3:::my-bucket/a, b.txt, arnprefix=null}]',
        RESOURCES,
      ),
    ).toEqual([S3, [null, 'AWS::S3::Object', 'arn:aws:s3:::my-bucket/a, b.txt', null]]);
    expect(value('[]', RESOURCES)).toEqual([]);
    expect(value('[null]', RESOURCES)).toEqual([null]);
    expect(value('[null, {accountid=123456789012, type=AWS::S3::Bucket, arn=arn:aws:s3:::my-bucket, arnprefix=null}]', RESOURCES)).toEqual([null, S3]);
  });

  it('refuses an object key that holds what could be a field', () => {
    expect(refused('[{accountid=1, type=AWS::S3::Object, arn=arn:aws:s3:::b/a, x=y.txt, arnprefix=null}]', RESOURCES)).toContain('[0]');
    expect(refused('[{accountid=1, arn=arn:aws:s3:::b/a}, {x, arnprefix=null}]', RESOURCES)).toContain('[1]');
    expect(refused('[{accountid=1}, ]', RESOURCES)).toBeTruthy();
    expect(refused('[{accountid=1}', RESOURCES)).toBeTruthy();
  });

  it('splits strings at every ", "', () => {
    const strings = t('array<string>');
    expect(value('[a, b, c]', strings)).toEqual(['a', 'b', 'c']);
    expect(value('[Mozilla (X11, Linux)]', strings)).toEqual(['Mozilla (X11', 'Linux)']);
    expect(value('[, ]', strings)).toEqual(['', '']);
    expect(value('[{"a":1}, {"k":"v, w"}, x=y]', strings)).toEqual(['{"a":1}', '{"k":"v, w"}', 'x=y']);
    expect(refused('[[a, b]]', strings)).toContain('separator inside brackets');
    expect(value('[[a], {b}]', strings)).toEqual(['[a]', '{b}']);
  });

  it('reads arrays of arrays and of maps', () => {
    expect(value('[[1, 2], [], null, [3]]', t('array<array<bigint>>'))).toEqual([[1n, 2n], [], null, [3n]]);
    expect(value('[{a=1}, {}, null]', t('array<map<string,int>>'))).toEqual([[['a', 1n]], [], null]);
  });
});

describe('readNested on tlsdetails and other scalars', () => {
  it('reads tlsdetails', () => {
    expect(value('{tlsversion=TLSv1.2, ciphersuite=ECDHE-RSA-AES128-GCM-SHA256, clientprovidedhostheader=s3.us-east-1.amazonaws.com}', TLS_DETAILS)).toEqual([
      'TLSv1.2',
      'ECDHE-RSA-AES128-GCM-SHA256',
      's3.us-east-1.amazonaws.com',
    ]);
    expect(value('{tlsversion=TLSv1.3, ciphersuite=TLS_AES_128_GCM_SHA256, clientprovidedhostheader=null}', TLS_DETAILS)).toEqual(['TLSv1.3', 'TLS_AES_128_GCM_SHA256', null]);
  });

  it('reads every primitive kind, checked for its range', () => {
    const all = t('struct<s:string,b:boolean,t:tinyint,m:smallint,i:int,g:bigint,f:float,d:double,ts:timestamp,dt:date,bin:binary>');
    expect(value('{s=x, b=TRUE, t=-128, m=32767, i=-2147483648, g=9223372036854775807, f=1.5, d=-2.5E-7, ts=2023-01-22 16:53:53.123, dt=2023-01-22, bin=0a ff}', all)).toEqual([
      'x',
      true,
      -128n,
      32767n,
      -2147483648n,
      9223372036854775807n,
      1.5,
      -2.5e-7,
      ms('2023-01-22 16:53:53.123'),
      ms('2023-01-22 00:00:00.000'),
      '0a ff',
    ]);
    expect(value('{d=NaN, f=-Infinity, b=false}', all)).toEqual([null, false, null, null, null, null, -Infinity, NaN, null, null, null]);
    expect(refused('{t=128}', all)).toContain('outside the tinyint range');
    expect(refused('{m=-32769}', all)).toContain('smallint');
    expect(refused('{i=2147483648}', all)).toContain('int range');
    expect(refused('{g=9223372036854775808}', all)).toContain('bigint range');
    expect(refused('{i=1.0}', all)).toContain('whole number');
    expect(refused('{b=yes}', all)).toContain('true or false');
    expect(refused('{d=1,5}', all)).toBeTruthy();
    expect(refused('{dt=2023-01-22 00:00:00.000}', all)).toContain('date');
    expect(refused('{ts=2023-02-30 00:00:00.000}', all)).toContain('valid date');
  });

  it('reads a primitive type at the top as the whole text', () => {
    expect(value('a, b={c}', t('string'))).toBe('a, b={c}');
    expect(value('null', t('string'))).toBeNull();
    expect(value('42', t('int'))).toBe(42n);
    expect(refused('x', t('int'))).toContain('whole number');
  });
});

describe('readNested limits', () => {
  it('refuses text over the length limit and nesting deeper than MAX_DEPTH', () => {
    expect(refused(`{a=${'x'.repeat(MAX_NESTED_TEXT_LENGTH)}}`, REQUEST_PARAMETERS)).toContain('limit');
    const deep = parseLakeType(`${'array<'.repeat(40)}string${'>'.repeat(40)}`, { maxDepth: 64 });
    expect(refused(`${'['.repeat(40)}x${']'.repeat(40)}`, deep)).toContain('deeper than');
    expect(refused(`{a=${'['.repeat(40)}${']'.repeat(40)}}`, REQUEST_PARAMETERS)).toContain('deeper than');
    expect(value(`{a=${'['.repeat(20)}${']'.repeat(20)}}`, REQUEST_PARAMETERS)).toEqual([['a', `${'['.repeat(20)}${']'.repeat(20)}`]]);
  });

  it('keeps reasons short whatever the text holds', () => {
    const key = 'k'.repeat(100_000);
    const reasons = [
      refused(`{${key}=1, ${key}=2}`, REQUEST_PARAMETERS),
      refused(`{${key}=1}`, USER_IDENTITY),
      refused(`[{accountid=${key}}, ${key}]`, RESOURCES),
      refused(`{${key}=[[${key}, ${key}=]]}`, REQUEST_PARAMETERS),
    ];
    for (const reason of reasons) expect(reason.length).toBeLessThan(400);
  });

  it('does not take the type or the text for an instruction', () => {
    expect(() => readNested(42 as unknown as string, REQUEST_PARAMETERS)).toThrow(TypeError);
    const reading: NestedReading = readNested('{a=b}', REQUEST_PARAMETERS);
    expect(reading).toEqual({ ok: true, value: [['a', 'b']] });
  });
});
