import { contentDisposition } from './content-disposition';

/** What a browser recovers from `filename*` (RFC 5987). */
function decoded(header: string): string | undefined {
  const m = /filename\*=UTF-8''([^;]+)/.exec(header);
  return m ? decodeURIComponent(m[1]) : undefined;
}

describe(contentDisposition.name, () => {
  it('should quote a plain ASCII name as is when it needs no encoding', () => {
    expect(contentDisposition('attachment', 'report 2026.pdf')).toBe(
      'attachment; filename="report 2026.pdf"',
    );
    expect(contentDisposition('inline', 'a.txt')).toBe('inline; filename="a.txt"');
  });

  it('should carry the exact UTF-8 name in filename* and an ASCII fallback when the name is Unicode', () => {
    for (const name of [
      'résumé.pdf',
      '報告書.txt',
      '😀 emoji.png',
      'Ω≈ç√.bin',
      "ü it's (1)*.txt",
    ]) {
      const header = contentDisposition('attachment', name);
      expect(decoded(header)).toBe(name);
      expect(header).toMatch(
        /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[\x21-\x7e]+$/,
      );
      expect(/filename\*=UTF-8''([^;]+)/.exec(header)![1]).not.toMatch(/['()*\s]/);
    }
  });

  it('should never let quotes, backslashes, controls or header breaks escape the value when the name is hostile', () => {
    const header = contentDisposition('attachment', 'a"b\r\nSet-Cookie: x=1;.txt');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.split('"')).toHaveLength(3);
    expect(decoded(header)).toBe('a"bSet-Cookie: x=1;.txt');
    expect(contentDisposition('inline', 'x\\y.txt')).toBe('inline; filename="y.txt"');
  });

  it('should keep only the last path segment and name empty files download when the name is a path or blank', () => {
    expect(contentDisposition('attachment', '../../etc/passwd')).toBe(
      'attachment; filename="passwd"',
    );
    expect(contentDisposition('attachment', 'dir/')).toBe('attachment; filename="download"');
    expect(contentDisposition('inline', '   ')).toBe('inline; filename="download"');
  });
});
