// Modules of class-transformer and class-validator that their index files do not re-export (both packages ship
// CommonJS under `cjs/` and the matching declarations under `types/`). Used by `compileClassCheck` only.
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}

declare module 'class-validator/cjs/validation/ValidationUtils' {
  export { ValidationUtils } from 'class-validator/types/validation/ValidationUtils';
}
