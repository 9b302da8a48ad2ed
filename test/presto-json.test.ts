import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, prestoToJson, prestoValueToJson, type JsonValue } from '../src/rows/presto-json.js';
import { mulberry32 } from '../src/emulator/faults.js';

/** Lake's rendering (src/emulator/presto-text.ts) of a value made of strings, nulls, objects and lists. */
function render(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(render).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, field]) => `${key}=${render(field)}`)
    .join(', ')}}`;
}

const USER_IDENTITY =
  '{type=AssumedRole, principalid=AROAEXAMPLE:alice, arn=arn:aws:sts::123456789012:assumed-role/Admin/alice, accountid=123456789012, accesskeyid=ASIAEXAMPLE, username=null, sessioncontext={attributes={creationdate=2023-01-22 16:50:01.000, mfaauthenticated=true}, sessionissuer={type=Role, arn=arn:aws:iam::123456789012:role/Admin}}}';

describe('prestoToJson on Lake shapes', () => {
  it('reads userIdentity, keeping every scalar a string and null as null', () => {
    expect(prestoToJson(USER_IDENTITY)).toBe(
      '{"type":"AssumedRole","principalid":"AROAEXAMPLE:alice","arn":"arn:aws:sts::123456789012:assumed-role/Admin/alice","accountid":"123456789012","accesskeyid":"ASIAEXAMPLE","username":null,"sessioncontext":{"attributes":{"creationdate":"2023-01-22 16:50:01.000","mfaauthenticated":"true"},"sessionissuer":{"type":"Role","arn":"arn:aws:iam::123456789012:role/Admin"}}}',
    );
  });

  it('reads a resources list of structs', () => {
    expect(
      prestoValueToJson(
        '[{accountid=123456789012, type=AWS::S3::Bucket, arn=arn:aws:s3:::my-bucket}, {accountid=null, type=AWS::S3::Object, arn=arn:aws:s3:::my-bucket/a, b=c.txt}]',
      ),
    ).toEqual([
      { accountid: '123456789012', type: 'AWS::S3::Bucket', arn: 'arn:aws:s3:::my-bucket' },
      { accountid: null, type: 'AWS::S3::Object', arn: 'arn:aws:s3:::my-bucket/a', b: 'c.txt' },
    ]);
  });

  it('reads lists of scalars, maps, and empty ones', () => {
    expect(prestoToJson('[a, b, c]')).toBe('["a","b","c"]');
    expect(prestoToJson('[]')).toBe('[]');
    expect(prestoToJson('{}')).toBe('{}');
    expect(prestoToJson('[{}, []]')).toBe('[{},[]]');
    expect(prestoToJson('{bucketName=my-bucket, key=photos/2024/a.jpg}')).toBe(
      '{"bucketName":"my-bucket","key":"photos/2024/a.jpg"}',
    );
    expect(prestoToJson('{x-amz-date=20240101T000000Z, Host=s3.amazonaws.com, a.b:c/d=1}')).toBe(
      '{"x-amz-date":"20240101T000000Z","Host":"s3.amazonaws.com","a.b:c/d":"1"}',
    );
  });

  it('reads null values at any depth, and keeps look-alikes as strings', () => {
    expect(prestoValueToJson('[null, a, null]')).toEqual([null, 'a', null]);
    expect(prestoValueToJson('{a=null, b={c=null, d=[null]}}')).toEqual({ a: null, b: { c: null, d: [null] } });
    expect(prestoValueToJson('{a=nullish, b=Null, c= null}')).toEqual({ a: 'nullish', b: 'Null', c: ' null' });
  });

  it('reads three and more levels of nesting', () => {
    expect(prestoValueToJson('{a={b={c={d=[e, {f=g}]}}}, h=i}')).toEqual({ a: { b: { c: { d: ['e', { f: 'g' }] } } }, h: 'i' });
    expect(prestoValueToJson('[[[x]], [[]]]')).toEqual([[['x']], [[]]]);
  });

  it('never turns scalars into numbers or booleans', () => {
    expect(prestoToJson('{n=42, f=1.50, b=false, big=12345678901234567890}')).toBe(
      '{"n":"42","f":"1.50","b":"false","big":"12345678901234567890"}',
    );
    expect(prestoToJson('[1, 2, true]')).toBe('["1","2","true"]');
  });
});

describe('awkward values', () => {
  it('keeps a comma that is not followed by key= inside the value', () => {
    expect(prestoValueToJson('{useragent=Mozilla/5.0 (X11, Linux), b=1}')).toEqual({ useragent: 'Mozilla/5.0 (X11, Linux)', b: '1' });
    expect(prestoValueToJson('{a=x, y, b=1, }')).toEqual({ a: 'x, y', b: '1, ' });
    expect(prestoValueToJson('{a=1,b=2}')).toEqual({ a: '1,b=2' }); // Presto always puts a space after the comma
    expect(prestoValueToJson('{a=1, =2}')).toEqual({ a: '1, =2' }); // keys are never empty
  });

  it('keeps = inside a value: keys never contain one', () => {
    expect(prestoValueToJson('{query=a=b}')).toEqual({ query: 'a=b' });
    expect(prestoValueToJson('{q=x==y, r==}')).toEqual({ q: 'x==y', r: '=' });
  });

  it('keeps balanced brackets inside a value and rejects unbalanced ones', () => {
    expect(prestoValueToJson('{note=a{b}c}')).toEqual({ note: 'a{b}c' });
    expect(prestoValueToJson('{note=f(x[0], {y})}')).toEqual({ note: 'f(x[0], {y})' });
    expect(prestoValueToJson('[a{b}c, d(e)]')).toEqual(['a{b}c', 'd(e)']);
    for (const text of ['{note=a{b}', '{note=a}b}', '{note=a]b}', '{note=a{b]c}', '[a}', '[a{b]']) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
  });

  it('rejects unbalanced parentheses, which may hide a cut', () => {
    for (const text of ['{ua=x (a, b=c)}', '{a=(x, b=y)}', '[Mozilla (X11, Linux)]', '{a=:-)}', '{a=(}']) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
  });

  it('rejects a separator inside a bracketed part of a value', () => {
    // `, x=` could have been a field boundary; `, ` a list boundary.
    // The last two would re-render exactly if cut (`{o={a=x{y, b=z}, c=w}}` as a="x{y", b="z"), so only this rule stops them.
    for (const text of ['{note=a{b, x=c}d}', '{note=a[b, x=c]}', '[a{b, c}d]', '{q=a(b, x=c)}', '{o={a=x{y, b=z}, c=w}}', '[[a{b, c]]']) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
    expect(prestoValueToJson('{note=a{b, c}d}')).toEqual({ note: 'a{b, c}d' }); // no key= after the comma
  });

  it('takes `, key=` at the top of a value as a boundary, always', () => {
    // Presto prints {a: "x, b=y"} and {a: "x", b: "y"} alike; the structural reading wins.
    expect(prestoValueToJson('{a=x, b=y}')).toEqual({ a: 'x', b: 'y' });
  });

  it('rejects a value that starts like a container but is not one', () => {
    for (const text of ['{a={b}}', '{a=[b]c}', '{a={b=1}x}', '[[a]b]', '{a={b=1}, c}']) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
  });

  it('keeps spaces inside values and rejects them around the text or before a key', () => {
    expect(prestoValueToJson('{a= 1 , b=  }')).toEqual({ a: ' 1 ', b: '  ' });
    expect(prestoValueToJson('[ a,  b ]')).toEqual([' a', ' b ']);
    expect(prestoValueToJson('{a=}')).toEqual({ a: '' });
    for (const text of [' {a=1}', '{a=1} ', '{a=1}\n', '{ a=1}', '{a b=1}']) {
      expect(prestoToJson(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('gives undefined for scalars, fast', () => {
    for (const text of ['', 'hello', '2024-01-01 00:00:00.000', 'null', '123', 'a=b', '"{a=1}"']) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
  });

  it('gives undefined for malformed text', () => {
    for (const text of ['{', '[', '{a=1', '{a}', '{=1}', '[a, b', '{a=1]', '{a=1}}', '[a]]', '{a=1}{b=2}', '{,a=1}']) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
  });

  it('reads unicode keys and values', () => {
    expect(prestoValueToJson('{名前=日本語 テキスト, emoji=😀 ok, ключ=[é, ñ]}')).toEqual({
      名前: '日本語 テキスト',
      emoji: '😀 ok',
      ключ: ['é', 'ñ'],
    });
    expect(prestoToJson('{a\u00a0b=1}')).toBeUndefined(); // no white space of any kind in a key
  });

  it('reads a 64 KiB value', () => {
    const big = 'x, y (z) é'.repeat(6554);
    const element = 'x y (z) é'.repeat(7282); // no `, ` in a list element
    expect(Math.min(big.length, element.length)).toBeGreaterThan(65536);
    expect(prestoValueToJson(`{a=${big}, b=[${element}, ${element}]}`)).toEqual({ a: big, b: [element, element] });
  });

  it('refuses keys JavaScript would drop or reorder, and keeps __proto__ as data', () => {
    expect(prestoToJson('{a=1, a=2}')).toBeUndefined();
    expect(prestoToJson('{1=a, 0=b}')).toBeUndefined();
    expect(prestoToJson('{b=x, 1=a}')).toBeUndefined();
    expect(prestoToJson('{0=a, 1=b, 10=c, x=d, 123456789012=e, 007=f}')).toBe(
      '{"0":"a","1":"b","10":"c","x":"d","123456789012":"e","007":"f"}',
    );
    expect(prestoToJson('{__proto__=x, b={__proto__=null}}')).toBe('{"__proto__":"x","b":{"__proto__":null}}');
    expect(Object.getPrototypeOf(prestoValueToJson('{__proto__=x}'))).toBe(Object.prototype);
  });
});

describe('embedded JSON', () => {
  it('parses canonical JSON text inside a map value', () => {
    const text =
      '{credentials={"accessKeyId":"ASIA...","expiration":"May 1, 2024, 1:00:11 AM"}, assumedRoleUser={"arn":"arn:aws:sts::1:assumed-role/r/s"}}';
    expect(prestoToJson(text)).toBe(
      '{"credentials":{"accessKeyId":"ASIA...","expiration":"May 1, 2024, 1:00:11 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::1:assumed-role/r/s"}}',
    );
  });

  it('copes with separators and brackets inside JSON strings', () => {
    expect(prestoValueToJson('{a={"q":"x, y=z }]"}, b=[{"n":1,"s":"]["}], c=1}')).toEqual({
      a: { q: 'x, y=z }]' },
      b: [{ n: 1, s: '][' }],
      c: '1',
    });
    expect(prestoValueToJson('{items={"items":[{"id":"i-1","tags":[]}],"more":false}}')).toEqual({
      items: { items: [{ id: 'i-1', tags: [] }], more: false },
    });
  });

  it('reads a list of JSON objects, however it is joined', () => {
    expect(prestoValueToJson('[{"a":1}, {"b":2}]')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(prestoValueToJson('[{"a":1},{"b":2}]')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(prestoValueToJson('[[],[]]')).toEqual([[], []]);
  });

  it('reads a top-level JSON cell as JSON', () => {
    expect(prestoToJson('{"a":{"b":[1,"2",null]}}')).toBe('{"a":{"b":[1,"2",null]}}');
  });

  it('keeps the Presto reading when both readings agree', () => {
    expect(prestoValueToJson('[1]')).toEqual(['1']);
    expect(prestoValueToJson('[true]')).toEqual(['true']);
    expect(prestoValueToJson('[null]')).toEqual([null]);
    expect(prestoValueToJson('[[]]')).toEqual([[]]);
    expect(prestoValueToJson('{k=[{"a":1}]}')).toEqual({ k: [{ a: 1 }] });
  });

  it('is ambiguous when the Presto and JSON readings differ', () => {
    // [1,2] is the one string "1,2" to Presto; ["a"] is a string with quotes; {"a":"x=y"} a map with key `"a":"x`.
    for (const text of ['[1,2]', '{k=[1,2]}', '["a"]', '{ids=["sg-1","sg-2"]}', '{"a":"x=y"}', '[true,false]']) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
  });

  it('rejects JSON that would not survive a parse unchanged', () => {
    // Rounded big numbers, dropped duplicate keys, rewritten escapes, numbers and spacing.
    for (const text of [
      '{a={"n":12345678901234567890}}',
      '{a={"k":1,"k":2}}',
      '{a={"s":"\\u0041"}}',
      '{a={"s":"\\/"}}',
      '{a={"n":1.0}}',
      '{a={"b":1,"1":2}}',
      '{a={"n": 1}}',
      '{a={"n":1}x}',
      '{a={"n":}}',
    ]) {
      expect(prestoToJson(text), text).toBeUndefined();
    }
    // Spaced-out JSON is no JSON reading; what remains must then read as Presto.
    expect(prestoValueToJson('[1, 2]')).toEqual(['1', '2']);
  });
});

describe('bounds', () => {
  it(`reads nesting up to ${MAX_DEPTH} levels and no deeper`, () => {
    const nest = (depth: number) => '{a='.repeat(depth) + 'x' + '}'.repeat(depth);
    expect(prestoToJson(nest(MAX_DEPTH))).toBeDefined();
    expect(prestoToJson(nest(MAX_DEPTH + 1))).toBeUndefined();
    expect(prestoToJson('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))).toBeDefined();
    expect(prestoToJson('['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1))).toBeUndefined();
  });

  // A quadratic or exponential reading would stop this test at its timeout; speed itself is the bench's business.
  it('finishes on hostile text', () => {
    const hostile = [
      '['.repeat(200_000),
      '{a='.repeat(100_000),
      `{a=${', b'.repeat(100_000)}}`,
      `{a=${'{'.repeat(100_000)}}`,
      `[${'1,'.repeat(100_000)}1]`,
      `[${'[1],'.repeat(50_000)}x]`,
      `{a=${'('.repeat(100_000)}${')'.repeat(100_000)}, ${'k'.repeat(100_000)}}`,
    ];
    for (const text of hostile) prestoToJson(text);
  });
});

/** The emulator's seeded PRNG, so a failure replays. */
const random = mulberry32;

/** Values whose strings stay clear of every ambiguous pattern, so they must read back exactly. */
function generator(seed: number) {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const pieces = ['a', 'Z', '0', '42', ' ', ', ', '=', ':', '/', '-', '.', '_', '(x)', '{y}', '[z]', 'é', '日本', '😀', 'null', ',', '"', "'", '\\', '\t'];
  const keyChars = 'abcdefghijklmnopqrstuvwxyzABC0123456789-._:/@'.split('');

  const scalar = (inList: boolean): string | null => {
    if (next() < 0.1) return null;
    for (;;) {
      let s = '';
      const length = Math.floor(next() * 8);
      for (let i = 0; i < length; i++) s += pick(pieces);
      const ambiguous =
        s === 'null' ||
        s.startsWith('{') ||
        s.startsWith('[') ||
        /, [^\s=,{}[\]]+=/.test(s) || // could be a field boundary
        // In a list: a list boundary, `[]` for `[""]`, or `[42,42]` and `["a"]`, which are also JSON.
        (inList && (s.includes(',') || s.startsWith('"') || s === ''));
      if (!ambiguous) return s;
    }
  };

  const key = (): string => {
    let k = pick(keyChars.slice(0, 29)); // a letter first: no integer keys, which JavaScript reorders
    const length = Math.floor(next() * 6);
    for (let i = 0; i < length; i++) k += pick(keyChars);
    return k;
  };

  const value = (depth: number, inList: boolean): JsonValue => {
    const roll = next();
    if (depth >= 4 || roll < 0.4) return scalar(inList);
    const size = Math.floor(next() * 4);
    if (roll < 0.7) return Array.from({ length: size }, () => value(depth + 1, true));
    const object: { [key: string]: JsonValue } = {};
    for (let i = 0; i < size; i++) object[key()] = value(depth + 1, false);
    return object;
  };

  return () => (next() < 0.5 ? objectRoot() : listRoot());
  function objectRoot(): JsonValue {
    const object: { [key: string]: JsonValue } = {};
    const size = Math.floor(next() * 5);
    for (let i = 0; i < size; i++) object[key()] = value(1, false);
    return object;
  }
  function listRoot(): JsonValue {
    return Array.from({ length: Math.floor(next() * 5) }, () => value(1, true));
  }
}

/**
 * The ends at which `text` from `pos` could be a rendering of `value`, where
 * any container may also be printed as its canonical JSON (embedded JSON).
 */
function renderingEnds(value: JsonValue, text: string, pos: number): number[] {
  const ends = new Set<number>();
  if (value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    if (text.startsWith(json, pos)) ends.add(pos + json.length);
    const [open, close, parts] = Array.isArray(value)
      ? ['[', ']', value.map((item) => ['', item] as const)]
      : ['{', '}', Object.entries(value).map(([k, v]) => [`${k}=`, v] as const)];
    if (text.startsWith(open, pos)) {
      let at = [pos + 1];
      parts.forEach(([prefix, item], index) => {
        const sep = (index > 0 ? ', ' : '') + prefix;
        at = at.flatMap((p) => (text.startsWith(sep, p) ? renderingEnds(item, text, p + sep.length) : []));
      });
      for (const p of at) if (text.startsWith(close, p)) ends.add(p + 1);
    }
  } else {
    const printed = value === null ? 'null' : typeof value === 'string' ? value : JSON.stringify(value);
    if (text.startsWith(printed, pos)) ends.add(pos + printed.length);
  }
  return [...ends];
}

describe('properties', () => {
  it('reads back 500 random values rendered as Lake prints them', () => {
    const generate = generator(20240501);
    for (let n = 0; n < 500; n++) {
      const value = generate();
      const text = render(value);
      expect(prestoValueToJson(text), text).toEqual(value);
      expect(prestoToJson(text), text).toBe(JSON.stringify(value));
    }
  });

  it('whatever it reads from mangled text prints back as that text', () => {
    const generate = generator(7);
    const next = random(99);
    const noise = [', ', ', k=', '=', '{', '}', '[', ']', '(', ')', 'null', ' ', ',', '"', '{"a":1}', '[1]', ':'];
    let read = 0;
    for (let n = 0; n < 2000; n++) {
      let text = render(generate());
      for (let edits = 1 + Math.floor(next() * 3); edits > 0; edits--) {
        const at = Math.floor(next() * (text.length + 1));
        const cut = next() < 0.3 ? 1 + Math.floor(next() * 3) : 0;
        text = text.slice(0, at) + (next() < 0.8 ? noise[Math.floor(next() * noise.length)] : '') + text.slice(at + cut);
      }
      const value = prestoValueToJson(text);
      if (value === undefined) continue;
      read++;
      expect(renderingEnds(value, text, 0), text).toContain(text.length);
      expect(prestoToJson(text)).toBe(JSON.stringify(value));
    }
    expect(read).toBeGreaterThan(100); // the check above has something to check
  });
});
