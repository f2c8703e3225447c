import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minimalPdf } from '../../src/synth/pdf.ts';

test('minimal PDF: header, EOF marker, and xref offsets that point at their objects', () => {
  const pdf = minimalPdf('Ontslagbrief (test)', ['Regel één', 'Regel twee \\ met (haakjes)']);
  const s = pdf.toString('latin1');
  assert.ok(s.startsWith('%PDF-1.4\n'));
  assert.ok(s.endsWith('%%EOF\n'));
  const startxref = Number(/startxref\n(\d+)\n/.exec(s)![1]);
  assert.ok(s.slice(startxref).startsWith('xref\n'));
  const entries = [...s.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
  assert.equal(entries.length, 6);
  entries.forEach((off, i) => assert.ok(s.slice(off).startsWith(`${i + 1} 0 obj\n`), `object ${i + 1} at ${off}`));
  const len = Number(/\/Length (\d+)/.exec(s)![1]);
  const streamStart = s.indexOf('stream\n') + 'stream\n'.length;
  assert.equal(s.slice(streamStart + len, streamStart + len + '\nendstream'.length), '\nendstream');
  // Non-ASCII is transliterated, delimiters escaped.
  assert.ok(s.includes('(Regel een) Tj'));
  assert.ok(s.includes('\\\\ met \\(haakjes\\)'));
});

test('minimal PDF is deterministic', () => {
  assert.deepEqual(minimalPdf('x', ['a']), minimalPdf('x', ['a']));
});
