/**
 * The fenced code blocks of a Markdown page, with the words of their info
 * string, so that a test can run the ones marked as runnable
 * (```` ```sh run ````; see CONTRIBUTING.md, "Runnable blocks").
 */
export interface DocBlock {
  /** The page, relative to the repository root (`docs/exports.md`). */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The first word of the info string (`sh`, `js`, `python`), or ''. */
  lang: string;
  /** The other words: `run`, `env`, `requires=aws`, ... */
  words: string[];
  code: string;
}

const OPEN = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/;

/**
 * Every fenced block of `text`, as CommonMark reads fences: a block closes at
 * a line of the same fence character at least as long as the one that opened
 * it, so a ```` fence may show ``` blocks inside it. A block left open runs to
 * the end of the page.
 */
export function docBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    const [lang = '', ...words] = (open[2] ?? '').trim().split(/\s+/).filter((w) => w !== '');
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const trimmed = line.trim();
      if (trimmed.length >= fence.length && trimmed === (fence[0] ?? '`').repeat(trimmed.length)) break;
      body.push(line);
    }
    blocks.push({ file, line: i + 1, lang, words, code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

/** `requires=TOOL` words of a block: the tools it needs beyond node and sh. */
export function requirements(block: DocBlock): string[] {
  return block.words.filter((w) => w.startsWith('requires=')).flatMap((w) => w.slice('requires='.length).split(','));
}

/**
 * The variables an env block sets: each `NAME=VALUE` word after `export` on a
 * line, up to a `#` comment. Quotes around a value are removed.
 */
export function exportedVariables(block: DocBlock): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of block.code.split('\n')) {
    const code = line.replace(/\s#.*$/, '').trim();
    if (!code.startsWith('export ')) continue;
    for (const word of code.slice('export '.length).trim().split(/\s+/)) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(word);
      if (match) vars.set(match[1] ?? '', (match[2] ?? '').replace(/^(["'])(.*)\1$/, '$2'));
    }
  }
  return vars;
}

/** The page with the contents of its fenced blocks blanked out, so that only prose is left (line numbers kept). */
export function prose(text: string): string {
  const lines = text.split('\n');
  for (const block of docBlocks('', text)) {
    const bodyLines = block.code.split('\n').length - 1;
    for (let i = block.line; i < block.line + bodyLines && i < lines.length; i++) lines[i] = '';
  }
  return lines.join('\n');
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(text).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = (heading[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The relative links of a page's prose (`[text](target)`), with their line; web and mail links left out. */
export function relativeLinks(text: string): Array<{ line: number; target: string }> {
  const links: Array<{ line: number; target: string }> = [];
  prose(text)
    .split('\n')
    .forEach((line, i) => {
      for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (!/^[a-z]+:/i.test(target)) links.push({ line: i + 1, target });
      }
    });
  return links;
}
