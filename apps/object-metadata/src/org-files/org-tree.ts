import { Injectable } from '@nestjs/common';
import { EventActor, OrgPath, StorageFileUpdatedEvent, Topic } from '@lib/contracts';
import { PgError, PgErrorCode, Tx } from '@lib/database';
import { OutboxWriter } from '@lib/events';
import {
  OrgNameTakenException,
  OrgPathNotFoundException,
  OrgTreeChangedException,
} from './org-files.exception';
import { OrgFile, OrgFilesRepository, OrgFolder } from './org-files.repository';

/** Who asks: the org (from the gateway's authentication) and the actor of the events. */
export interface OrgCaller {
  orgId: string;
  actor: EventActor;
}

/** What a path names: a folder (the root for an empty path) or a file. */
export type OrgTarget =
  | { kind: 'folder'; folder: OrgFolder; path: OrgPath }
  | { kind: 'file'; file: OrgFile; folder: OrgFolder; path: OrgPath };

export const parentOf = (p: OrgPath) => p.segments.slice(0, -1).join('/');
export const lastOf = (p: OrgPath) => p.segments[p.segments.length - 1];

/**
 * A change's races answer 409, not 500: two creators of one name (unique index), a folder deleted while a
 * change wrote into it (foreign key). A deadlock (a writer walking down the tree while a folder delete locks
 * its subtree) is retried, then a 409 too.
 */
const raceAnswer = ({ code }: PgError): Error | undefined => {
  if (code === PgErrorCode.UniqueViolation) return new OrgNameTakenException('the target');
  if (code === PgErrorCode.ForeignKeyViolation || code === PgErrorCode.DeadlockDetected) {
    return new OrgTreeChangedException();
  }
  return undefined;
};

/**
 * What the org-files use cases share: walking a path down the folder tree, creating missing folders, the
 * transaction of a change and its `storage_file.updated` events.
 */
@Injectable()
export class OrgTree {
  constructor(
    private readonly repo: OrgFilesRepository,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Runs a change in one transaction whose races answer 409 (see `raceAnswer`). */
  change<T>(work: (m: Tx) => Promise<T>): Promise<T> {
    return this.repo.transaction(work, { attempts: 3, mapError: raceAnswer });
  }

  /** What `p` names: a folder (the root for an empty path), a file, or nothing (null). */
  async resolve(m: Tx, root: OrgFolder, p: OrgPath): Promise<OrgTarget | null> {
    const chain = await this.repo.walk(m, root.id, p.segments);
    const deepest = chain[chain.length - 1];
    if (chain.length === p.segments.length + 1) return { kind: 'folder', folder: deepest, path: p };
    if (chain.length === p.segments.length) {
      const file = await this.repo.fileIn(m, deepest.id, lastOf(p));
      return file ? { kind: 'file', file, folder: deepest, path: p } : null;
    }
    return null;
  }

  /** What `p` names in the org's tree; a 404 naming `field` when nothing. */
  async existing(m: Tx, orgId: string, p: OrgPath, field: string): Promise<OrgTarget> {
    const root = await this.repo.findRoot(m, orgId);
    const t = root && (await this.resolve(m, root, p));
    if (!t) throw new OrgPathNotFoundException(field, p.path);
    return t;
  }

  /** The folder at `segments`, creating what is missing; 409 when a segment is a file. */
  async mkdirs(m: Tx, orgId: string, root: OrgFolder, segments: string[]): Promise<OrgFolder> {
    if (segments.length === 0) return root;
    const chain = await this.repo.walk(m, root.id, segments);
    let current = chain[chain.length - 1];
    for (let i = chain.length - 1; i < segments.length; i++) {
      const name = segments[i];
      if (!(await this.repo.lockFolder(m, current.id))) throw new OrgTreeChangedException();
      const next =
        (await this.repo.childFolder(m, current.id, name)) ??
        ((await this.repo.fileIn(m, current.id, name))
          ? null
          : await this.repo.insertFolder(m, orgId, current.id, name));
      if (!next) throw new OrgNameTakenException(segments.slice(0, i + 1).join('/'));
      current = next;
    }
    return current;
  }

  /** Appends the change's events to the outbox, in its transaction. */
  async append(m: Tx, events: StorageFileUpdatedEvent[]): Promise<void> {
    await this.outbox.appendMany(
      m,
      events.map((data) => ({ topic: Topic.StorageFileUpdated, key: data.objectId, data })),
    );
  }
}
