import { downloadHeaders, safeContentType } from './download-headers';

describe(safeContentType.name, () => {
  it('should keep the types a browser renders without running anything, in canonical form', () => {
    expect(safeContentType('text/plain')).toBe('text/plain');
    expect(safeContentType('text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
    expect(safeContentType('Text/Plain;Charset=UTF-8')).toBe('text/plain; charset=utf-8');
    expect(safeContentType(' image/png ')).toBe('image/png');
    expect(safeContentType('image/jpeg; foo=bar')).toBe('image/jpeg');
    expect(safeContentType('application/pdf')).toBe('application/pdf');
    expect(safeContentType('application/gzip')).toBe('application/gzip');
    expect(safeContentType('application/octet-stream')).toBe('application/octet-stream');
    expect(safeContentType('video/mp4')).toBe('video/mp4');
    expect(safeContentType('audio/ogg; codecs=opus')).toBe('audio/ogg');
  });

  it('should refuse pages, scripts, unknown types and values a browser would read as another type', () => {
    for (const stored of [
      null,
      '',
      'text/html',
      'TEXT/HTML; charset=utf-8',
      'image/svg+xml',
      'application/xhtml+xml',
      'text/xml',
      'application/xml',
      'text/javascript',
      'application/json',
      'text/plain, text/html',
      'text/plain,text/html',
      'video/mp4, text/html',
      'image/png/html',
      'text/plainhtml',
      'image/',
      '/png',
      'video',
      'image/png\u0000',
      'text/ plain',
    ]) {
      expect([stored, safeContentType(stored)]).toEqual([stored, null]);
    }
  });

  it('should drop a charset that is not a plain token', () => {
    expect(safeContentType('text/plain; charset="utf-8"')).toBe('text/plain');
    expect(safeContentType('text/plain; charset=utf-8, text/html')).toBe('text/plain');
    expect(safeContentType('text/plain; charset=')).toBe('text/plain');
  });
});

describe(downloadHeaders.name, () => {
  it('should serve a safe type as stored, with the disposition asked for', () => {
    expect(downloadHeaders('inline', 'a.png', 'image/png')).toEqual({
      contentType: 'image/png',
      contentDisposition: 'inline; filename="a.png"',
    });
    expect(downloadHeaders('attachment', 'a.txt', 'text/plain; charset=utf-8')).toEqual({
      contentType: 'text/plain; charset=utf-8',
      contentDisposition: 'attachment; filename="a.txt"',
    });
  });

  it('should serve anything else as an octet-stream attachment, even when inline was asked for', () => {
    for (const stored of ['text/html', 'image/svg+xml', 'text/plain, text/html', null]) {
      expect(downloadHeaders('inline', 'page.html', stored)).toEqual({
        contentType: 'application/octet-stream',
        contentDisposition: 'attachment; filename="page.html"',
      });
    }
  });
});
