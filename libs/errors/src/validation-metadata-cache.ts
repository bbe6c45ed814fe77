import { getMetadataStorage, type MetadataStorage } from 'class-validator';

type Lookup = MetadataStorage['getTargetValidationMetadatas'];
type Grouped = ReturnType<MetadataStorage['groupByPropertyName']>;
type ValidationMetadata = Parameters<MetadataStorage['addValidationMetadata']>[0];
type Target = Parameters<Lookup>[0];

const installed = new WeakSet<MetadataStorage>();

/**
 * Memoizes class-validator's per-class metadata lookups, which it recomputes on every `validate` (and for
 * every nested object): `getTargetValidationMetadatas` walks the metadata of every decorated class of the
 * process with an `instanceof` test each, to find inherited rules, and `groupByPropertyName` regroups the
 * result. Both depend only on the registered metadata, so their results are kept per class and options,
 * and dropped whenever a decorator registers more metadata (a class loaded later). Neither result is
 * mutated by class-validator's executor. Measured in the gateway: these two were ~2-3 % of its CPU under
 * load, and grew with the number of decorated classes. Idempotent; the storage is process-global.
 */
export function cacheValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  if (installed.has(storage)) return;
  installed.add(storage);
  let byTarget = new Map<Target, Map<string, ValidationMetadata[]>>();
  let grouped = new WeakMap<ValidationMetadata[], Grouped>();

  const addValidationMetadata = storage.addValidationMetadata.bind(storage);
  storage.addValidationMetadata = (metadata: ValidationMetadata) => {
    byTarget = new Map<Target, Map<string, ValidationMetadata[]>>();
    grouped = new WeakMap();
    addValidationMetadata(metadata);
  };

  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const options = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0000') ?? ''}`;
    let forTarget = byTarget.get(target);
    if (!forTarget) byTarget.set(target, (forTarget = new Map<string, ValidationMetadata[]>()));
    let metadatas = forTarget.get(options);
    if (!metadatas)
      forTarget.set(options, (metadatas = lookup(target, schema, always, strictGroups, groups)));
    return metadatas;
  };

  const group = storage.groupByPropertyName.bind(storage);
  storage.groupByPropertyName = (metadatas) => {
    let result = grouped.get(metadatas);
    if (!result) grouped.set(metadatas, (result = group(metadatas)));
    return result;
  };
}
