import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { TransformationType } from 'class-transformer';
import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';
import { ValidationUtils } from 'class-validator/cjs/validation/ValidationUtils';
import type { ConstraintMetadata } from 'class-validator/types/metadata/ConstraintMetadata';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/**
 * A compiled check of plain data (what `JSON.parse` returns) against a class's class-validator decorators:
 * the problems, one string per field (`field: message, message`, nested fields as `actor.type`), or `[]`.
 */
export type ClassCheck = (data: unknown) => string[];

export interface ClassCheckOptions {
  /**
   * `true`: a field the class does not declare is a problem (`property x should not exist`), at every level,
   * as class-validator's `whitelist` + `forbidNonWhitelisted`. `false`: undeclared fields are ignored.
   */
  closed: boolean;
}

/** Not an object: the whole value is refused before any field is looked at. */
export const NOT_AN_OBJECT = 'the value must be a JSON object';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- class-validator's own type for classes
type AnyClass = Function;
type Problems = string[];
type ObjectCheck = (object: Record<string, unknown>, path: string, out: Problems) => void;

/**
 * Compiles `cls`'s decorators (class-validator's metadata storage, and class-transformer's `@Type` for nested
 * classes) into one function, so the decorators stay the single source of truth while a check costs a few
 * function calls instead of `plainToInstance` + `validate` (~45 µs per event).
 *
 * Same verdict and same problem strings as `validate(plainToInstance(cls, data), { whitelist: closed,
 * forbidNonWhitelisted: closed, forbidUnknownValues: true })` flattened to `field: messages` (the property
 * test in `class-check.spec.ts` compares both on generated payloads), synchronously: the constraints'
 * own `validate` and `defaultMessage` run, in the order class-validator runs them. Two differences, on
 * purpose: own keys named `constructor` or `__proto__` are plain fields here (class-transformer would replace
 * the instance's constructor or prototype with them); and what cannot be compiled exactly is refused when
 * compiling, not approximated: async constraints, promise validation, `@Transform`/`@Expose`/`@Exclude`,
 * `@Type` anywhere but on a `@ValidateNested` property, a nested class without decorators, field defaults.
 */
export function compileClassCheck(cls: AnyClass, { closed }: ClassCheckOptions): ClassCheck {
  const compiled = new Map<string, ObjectCheck>();
  const root = compileObject(cls, undefined, closed, compiled);
  return (data) => {
    if (!isObject(data)) return [NOT_AN_OBJECT];
    const out: Problems = [];
    root(data, '', out);
    return out;
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const fieldPath = (parent: string, property: string) =>
  parent ? `${parent}.${property}` : property;

/** class-validator's `ValidationExecutor.execute` for one class. Compiled once per (class, schema). */
function compileObject(
  cls: AnyClass,
  targetSchema: string | undefined,
  closed: boolean,
  compiled: Map<string, ObjectCheck>,
): ObjectCheck {
  const cacheKey = `${cls.name}\u0000${targetSchema ?? ''}`;
  const known = compiled.get(cacheKey);
  if (known) return known;
  // A self-referencing class refers to itself through this indirection while it is being compiled.
  let check: ObjectCheck = () => undefined;
  compiled.set(cacheKey, (o, p, out) => check(o, p, out));

  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(
    cls,
    targetSchema as string,
    false,
    false,
    undefined,
  );
  if (metadatas.length === 0) {
    throw new Error(`compileClassCheck: ${cls.name} has no validation decorators`);
  }
  refuseTransforms(cls);
  const grouped = storage.groupByPropertyName(metadatas);
  const declared = new Set(Object.keys(grouped));
  const properties = Object.entries(grouped).map(([name, list]) =>
    compileProperty(cls, name, list, closed, compiled),
  );

  check = (object, path, out) => {
    if (closed) {
      for (const key of Object.keys(object)) {
        if (!declared.has(key))
          out.push(`${fieldPath(path, key)}: property ${key} should not exist`);
      }
    }
    for (const property of properties) property(object, path, out);
  };
  return check;
}

function refuseTransforms(cls: AnyClass): void {
  const instance = Reflect.construct(cls, []) as object;
  if (Object.keys(instance).length > 0) {
    throw new Error(
      `compileClassCheck: ${cls.name} has field defaults (plainToInstance keeps them)`,
    );
  }
  if (
    defaultMetadataStorage.getExposedMetadatas(cls).length > 0 ||
    defaultMetadataStorage.getExcludedMetadatas(cls).length > 0
  ) {
    throw new Error(`compileClassCheck: ${cls.name} uses @Expose/@Exclude`);
  }
}

interface CustomConstraint {
  metadata: ValidationMetadata;
  constraint: ConstraintMetadata;
  /** The key of the message in class-validator's `constraints` (the constraint's name). */
  type: string;
  /** Reused between calls (validation is synchronous): `object` and `value` are set before each use. */
  args: ValidationArguments;
  test: (value: unknown) => boolean;
}

/** class-validator's `performValidations` for one property of `cls`. */
function compileProperty(
  cls: AnyClass,
  name: string,
  metadatas: ValidationMetadata[],
  closed: boolean,
  compiled: Map<string, ObjectCheck>,
): ObjectCheck {
  const storage = getMetadataStorage();
  const ofType = (type: string) => metadatas.filter((m) => m.type === type);
  const unsupported = metadatas.find(
    (m) =>
      m.type === ValidationTypes.PROMISE_VALIDATION ||
      (m.each && m.type === ValidationTypes.NESTED_VALIDATION),
  );
  if (unsupported) {
    throw new Error(`compileClassCheck: ${cls.name}.${name}: ${unsupported.type} not supported`);
  }
  if (
    defaultMetadataStorage.findTransformMetadatas(cls, name, TransformationType.PLAIN_TO_CLASS)
      .length > 0
  ) {
    throw new Error(`compileClassCheck: ${cls.name}.${name} uses @Transform`);
  }
  const customs = (list: ValidationMetadata[]): CustomConstraint[] =>
    list.flatMap((metadata) =>
      storage.getTargetValidatorConstraints(metadata.constraintCls).map((constraint) => {
        if (constraint.async) {
          throw new Error(`compileClassCheck: ${cls.name}.${name}: async ${constraint.name}`);
        }
        const args: ValidationArguments = {
          targetName: cls.name,
          property: metadata.propertyName,
          object: {},
          value: undefined,
          constraints: metadata.constraints,
        };
        return {
          metadata,
          constraint,
          type: constraint.name || metadata.type,
          args,
          test: compileTest(metadata, constraint, args),
        };
      }),
    );
  const conditions = ofType(ValidationTypes.CONDITIONAL_VALIDATION).map(
    (m) => m.constraints[0] as (object: object, value: unknown) => boolean,
  );
  const checks = [
    ...customs(ofType(ValidationTypes.IS_DEFINED)),
    ...customs(ofType(ValidationTypes.CUSTOM_VALIDATION)),
  ];
  const nested = compileNested(
    cls,
    name,
    ofType(ValidationTypes.NESTED_VALIDATION),
    closed,
    compiled,
  );

  return (object, path, out) => {
    const value = object[name];
    for (const condition of conditions) if (!condition(object, value)) return;
    let own: Map<string, string> | undefined;
    for (const c of checks) {
      if (c.metadata.validateIf && !c.metadata.validateIf(object, value)) continue;
      c.args.object = object;
      c.args.value = value;
      if (!c.test(value)) (own ??= new Map()).set(c.type, message(c));
    }
    if (!nested || value === undefined) {
      if (own) out.push(`${fieldPath(path, name)}: ${[...own.values()].join(', ')}`);
      return;
    }
    const field = fieldPath(path, name);
    const children: Problems = [];
    nested(value, field, (type, text) => (own ??= new Map()).set(type, text), children);
    if (own) out.push(`${field}: ${[...own.values()].join(', ')}`);
    out.push(...children);
  };
}

/** The constraint's own `validate`, on the value or, with `each`, on each element of an array, set or map. */
function compileTest(
  metadata: ValidationMetadata,
  constraint: ConstraintMetadata,
  args: ValidationArguments,
): (value: unknown) => boolean {
  const validator = constraint.instance;
  const one = (value: unknown) => {
    const result = validator.validate(value, args);
    if (result instanceof Promise) {
      throw new Error(`compileClassCheck: ${constraint.name} returned a promise`);
    }
    return result;
  };
  if (!metadata.each) return one;
  return (value) => {
    if (Array.isArray(value)) return value.every(one);
    if (value instanceof Set || value instanceof Map) return [...value.values()].every(one);
    return one(value);
  };
}

function message(c: CustomConstraint): string {
  const { metadata, constraint, args } = c;
  let text: string | ((a: ValidationArguments) => string) = metadata.message || '';
  if (!metadata.message && constraint.instance.defaultMessage instanceof Function) {
    text = constraint.instance.defaultMessage(args);
  }
  return ValidationUtils.replaceMessageSpecialTokens(text, args);
}

type NestedCheck = (
  value: unknown,
  field: string,
  addOwn: (type: string, text: string) => void,
  children: Problems,
) => void;

/**
 * class-validator's `nestedValidations`: an object is checked as the `@Type` class (class-transformer made
 * it an instance of it), an array element by element (`actor.0.type`), anything else is a problem.
 */
function compileNested(
  cls: AnyClass,
  name: string,
  metadatas: ValidationMetadata[],
  closed: boolean,
  compiled: Map<string, ObjectCheck>,
): NestedCheck | undefined {
  const type = defaultMetadataStorage.findTypeMetadata(cls, name);
  if (metadatas.length === 0) {
    if (type)
      throw new Error(`compileClassCheck: ${cls.name}.${name}: @Type without @ValidateNested`);
    return undefined;
  }
  if (!type || type.options?.discriminator) {
    throw new Error(
      `compileClassCheck: ${cls.name}.${name}: @ValidateNested needs @Type(() => Class)`,
    );
  }
  const targets = metadatas.map((metadata) => ({
    metadata,
    check: compileObject(
      type.typeFunction(),
      typeof metadata.target === 'string' ? metadata.target : metadata.target.name,
      closed,
      compiled,
    ),
  }));
  const notNested = (metadata: ValidationMetadata, value: unknown) =>
    ValidationUtils.replaceMessageSpecialTokens(metadata.message, {
      targetName: 'Function',
      property: metadata.propertyName,
      object: metadata.target as object,
      value,
      constraints: metadata.constraints,
    });

  const nested: NestedCheck = (value, field, addOwn, children) => {
    if (value === undefined) return;
    for (const { metadata, check } of targets) {
      if (Array.isArray(value) || value instanceof Set || value instanceof Map) {
        const entries: [unknown, unknown][] =
          value instanceof Set ? [...value].map((v, i) => [i, v]) : [...value.entries()];
        for (const [index, element] of entries) {
          const elementField = `${field}.${String(index)}`;
          let elementOwn: Map<string, string> | undefined;
          const elementChildren: Problems = [];
          nested(
            element,
            elementField,
            (t, text) => (elementOwn ??= new Map()).set(t, text),
            elementChildren,
          );
          if (elementOwn) children.push(`${elementField}: ${[...elementOwn.values()].join(', ')}`);
          children.push(...elementChildren);
        }
      } else if (typeof value === 'object' && value !== null) {
        // class-transformer made it an instance of the `@Type` class, whatever its prototype was.
        check(value as Record<string, unknown>, field, children);
      } else {
        addOwn(metadata.type, notNested(metadata, value));
      }
    }
  };
  return nested;
}
