import { newKeyToken } from '@lib/contracts';
import type { Client } from 'pg';

/**
 * `count` READ_ONLY objects of `org` (1,000 bytes each, a name with a non-ASCII character), inserted with SQL
 * as complete leaves them: what the public download benchmarks fetch by key.
 */
export async function seedReadOnlyObjects(
  db: Client,
  org: { orgId: string; orgKey: string },
  count: number,
): Promise<{ id: string; key: string }[]> {
  const rows = Array.from({ length: count }, (_, i) => {
    const id = `obj_${(BigInt(Date.now()) * 1_000_000n + BigInt(i)).toString(16).padStart(32, '0')}`;
    return { id, i, key: `${org.orgKey}/objects/${id}/${newKeyToken()}` };
  });
  await db.query(
    `INSERT INTO object_metadata.objects (id, org_id, org_key, name, content_type, state, size_bytes,
       object_key, create_time_ms, is_public, purge_pending, version)
     SELECT r.id, $1, $2, 'report ' || r.i || ' é.pdf', 'binary', 'READ_ONLY', 1000, r.key, $3, false,
       false, 2
     FROM jsonb_to_recordset($4::jsonb) AS r(id text, i int, key text)`,
    [org.orgId, org.orgKey, Date.now(), JSON.stringify(rows)],
  );
  return rows.map(({ id, key }) => ({ id, key }));
}
