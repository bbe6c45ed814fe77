export const MULTIPART_BOUNDARY = 'bench-boundary-7f3a';

/** The content-type of a `multipartBody` body. */
export const MULTIPART_CONTENT_TYPE = `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`;

/** A multipart body: the text `fields` in order, then one file part named `fileField`. */
export function multipartBody(
  fields: Record<string, string>,
  fileField: string,
  filename: string,
  content: string,
): string {
  const parts = Object.entries(fields).map(
    ([name, value]) =>
      `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return (
    parts.join('') +
    `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="${fileField}"; filename="${filename}"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n${content}\r\n--${MULTIPART_BOUNDARY}--\r\n`
  );
}

/** A multipart body as org storage's upload takes it: the `path` field (a folder), then the `file` part. */
export function multipartFile(filename: string, folder: string, content: string): string {
  return multipartBody({ path: folder }, 'file', filename, content);
}
