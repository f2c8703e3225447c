/**
 * A tiny, valid single-page PDF with text, written by hand so documents need no PDF library. It has a correct
 * cross-reference table (readers and validators check the byte offsets) and no timestamps, so the bytes are
 * deterministic. It uses the standard Helvetica font and is therefore "PDF/A-ish", not conformant PDF/A
 * (that would need an embedded font and XMP metadata).
 */

/** PDF literal strings: escape the delimiters, and keep to printable ASCII (Helvetica/WinAnsi, no embedding). */
function pdfText(s: string): string {
  const ascii = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '?');
  return ascii.replace(/\\/g, '\\\\').replace(/\(/g, '\\(').replace(/\)/g, '\\)');
}

export function minimalPdf(title: string, lines: readonly string[]): Buffer {
  const content = [
    'BT',
    '/F1 14 Tf',
    '56 780 Td',
    `(${pdfText(title)}) Tj`,
    '/F1 10 Tf',
    '0 -24 Td',
    ...lines.flatMap((l) => [`(${pdfText(l)}) Tj`, '0 -14 Td']),
    'ET',
  ].join('\n');

  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    `<< /Title (${pdfText(title)}) /Producer (Schakel synth) >>`,
  ];

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
