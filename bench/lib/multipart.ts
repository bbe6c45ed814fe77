export const MULTIPART_BOUNDARY = 'bench-boundary-7f3a';

/** The content-type of a `multipartFile` body. */
export const MULTIPART_CONTENT_TYPE = `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`;

/** A multipart body as org storage's upload takes it: the `path` field (a folder), then the `file` part. */
export function multipartFile(filename: string, folder: string, content: string): string {
  return (
    `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="path"\r\n\r\n${folder}\r\n` +
    `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n${content}\r\n--${MULTIPART_BOUNDARY}--\r\n`
  );
}
