import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const docsDir = join(root, 'docs');
const readmePath = join(root, 'README.md');

/** README.md is a front door: what the worker does and where to read on, not the reference. */
const readmeMaxChars = 12_000;

const markdownFiles = [
  readmePath,
  ...readdirSync(docsDir)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(docsDir, name)),
];

/** The text a reader sees as prose: fenced code blocks and inline code spans removed. */
function proseOf(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Targets of inline links and images, `[text](target "title")`. */
function linkTargets(markdown: string): string[] {
  const pattern = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
  return [...proseOf(markdown).matchAll(pattern)].map((m) => m[1]!);
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const headings = markdown
    .replace(/^```[\s\S]*?^```/gm, '')
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => headingAnchor(line.replace(/^#+ /, '')));
  return new Set(headings);
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** Every relative link of `file` that names a missing file, or a missing heading of a Markdown file. */
function brokenLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return linkTargets(text).flatMap((target) => {
    if (isExternal(target)) return [];
    const [pathPart = '', anchor] = target.split('#', 2);
    const targetFile = pathPart === '' ? file : resolve(dirname(file), decodeURI(pathPart));
    if (!existsSync(targetFile)) return [`${target} (no such file)`];
    if (anchor === undefined || anchor === '' || !targetFile.endsWith('.md')) return [];
    const known = anchorsOf(readFileSync(targetFile, 'utf8'));
    return known.has(anchor) ? [] : [`${target} (no such heading)`];
  });
}

void test(`README.md stays under ${readmeMaxChars} characters`, () => {
  const length = readFileSync(readmePath, 'utf8').length;
  assert.ok(length <= readmeMaxChars, `README.md has ${length} characters; move details to docs/`);
});

void test('every relative link in README.md and docs/*.md points at a file and heading that exist', () => {
  const broken = markdownFiles.flatMap((file) =>
    brokenLinks(file).map((link) => `${relative(root, file)}: ${link}`),
  );
  assert.deepEqual(broken, []);
});

void test('linkTargets() finds inline links and images and skips code', () => {
  const markdown = [
    'See [the docs](docs/a.md#part) and ![a chart](img/c.png "Chart").',
    'An [external](https://example.com) one.',
    '`[not a link](x.md)`',
    '```',
    '[also not](y.md)',
    '```',
  ].join('\n');
  assert.deepEqual(linkTargets(markdown), ['docs/a.md#part', 'img/c.png', 'https://example.com']);
});

void test('headingAnchor() follows GitHub: lower case, no punctuation, hyphens for spaces', () => {
  assert.equal(headingAnchor('The quality suite (`bench:suite`)'), 'the-quality-suite-benchsuite');
  assert.equal(headingAnchor('kafkajs and @platformatic/kafka'), 'kafkajs-and-platformatickafka');
  assert.equal(headingAnchor('Model versions and refinement'), 'model-versions-and-refinement');
});
