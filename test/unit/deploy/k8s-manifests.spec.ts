// Static checks of the kustomize manifests under k8s/: every document against the Kubernetes
// OpenAPI schemas (kubernetes-models), then the platform's own rules (probes, resources,
// hardening, selectors, env wiring, Jobs, NetworkPolicies). When a kustomize binary is on the
// PATH (`kustomize` or `kubectl kustomize`), the rendered output is validated as well.
import { spawnSync } from 'child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { basename, dirname, join, relative, resolve } from 'path';
import { parseAllDocuments } from 'yaml';
// eslint-disable-next-line no-restricted-imports -- the package's `apps` API group, not an app of ours
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import {
  HorizontalPodAutoscaler,
  type IHorizontalPodAutoscaler,
} from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob, type ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { type IIngress, Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import {
  type INetworkPolicy,
  NetworkPolicy,
} from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import {
  type IPodDisruptionBudget,
  PodDisruptionBudget,
} from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { type ISecret, Secret } from 'kubernetes-models/v1/Secret';
import { type IService, Service } from 'kubernetes-models/v1/Service';
import { type IServiceAccount, ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { ILabelSelector } from '@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import {
  APP_NAMES,
  APPS,
  type AppName,
  DEPENDENCY_PORTS,
  type Dependency,
  gatewayHttpProblems,
  IMAGE_NAME,
  isRecord,
  JOB_DEPENDENCIES,
  KAFKA_PARTITIONS,
  type PlatformApp,
  REPO_ROOT,
  requiredEnv,
  SECRET_ENV,
  SECRET_KEYS,
  SERVICE_KEY_SECRETS,
  URL_ENV,
  WELL_KNOWN_SECRETS,
} from './platform';

const K8S_ROOT = join(REPO_ROOT, 'k8s');
const BASE_DIR = join(K8S_ROOT, 'base');
const PART_OF = { 'app.kubernetes.io/part-of': 'storage-flows-platform' };
const KAFKA_REPLICATION_FACTOR = 3;

// ---- loading ------------------------------------------------------------------------------------

interface KubeObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface ManifestDoc {
  /** Path relative to the repository root, with the document index for multi-doc files. */
  readonly where: string;
  readonly dir: string;
  readonly obj: KubeObject;
}

function listYamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return listYamlFiles(path);
      return /\.ya?ml$/.test(entry) ? [path] : [];
    });
}

function parseManifests(text: string, label: string, dir: string): ManifestDoc[] {
  const docs: ManifestDoc[] = [];
  // YAML 1.1 like the Kubernetes decoder: an unquoted `yes`/`on` is a boolean there too.
  parseAllDocuments(text, { version: '1.1' }).forEach((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${label}#${index}: ${doc.errors[0].message}`);
    const obj: unknown = doc.toJS();
    if (obj === null || obj === undefined) return;
    if (!isRecord(obj)) throw new Error(`${label}#${index}: not a mapping`);
    docs.push({ where: `${label}#${index}`, dir, obj });
  });
  return docs;
}

// k8s/monitoring holds Prometheus Operator objects, for clusters that have its CRDs: prometheus-rules.spec.ts.
const YAML_FILES = listYamlFiles(K8S_ROOT).filter(
  (file) => !file.startsWith(join(K8S_ROOT, 'monitoring')),
);
const KUSTOMIZATION_DIRS = YAML_FILES.filter((f) => basename(f) === 'kustomization.yaml').map(
  dirname,
);
/** Files a kustomization names as `patches: [{ path }]`: partial objects, checked once rendered. */
const PATCH_FILES = new Set(
  KUSTOMIZATION_DIRS.flatMap((dir) => {
    const [k] = parseManifests(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'), dir, dir);
    const patches = Array.isArray(k.obj.patches) ? k.obj.patches.filter(isRecord) : [];
    return patches.flatMap((p) => (typeof p.path === 'string' ? [resolve(dir, p.path)] : []));
  }),
);
const ALL_DOCS = YAML_FILES.filter((file) => !PATCH_FILES.has(file)).flatMap((file) =>
  parseManifests(readFileSync(file, 'utf8'), relative(REPO_ROOT, file), dirname(file)),
);
const BASE_DOCS = ALL_DOCS.filter((d) => d.dir === BASE_DIR && d.obj.kind !== 'Kustomization');

// ---- schema validation ----------------------------------------------------------------------------

interface Validatable {
  validate(): void;
}
interface ModelClass {
  new (data: KubeObject): Validatable;
  readonly apiVersion: string;
  readonly kind: string;
}

// The kinds these manifests may use (the Prometheus Operator's from its CRD schemas); anything else (a typo,
// another CRD) fails the test. The alerting rules themselves: prometheus-rules.spec.ts.
const MODEL_CLASSES = [
  ConfigMap,
  CronJob,
  Deployment,
  HorizontalPodAutoscaler,
  Ingress,
  Job,
  Namespace,
  NetworkPolicy,
  PodDisruptionBudget,
  PrometheusRule,
  Secret,
  Service,
  ServiceAccount,
  ServiceMonitor,
] as unknown as ModelClass[];
const MODELS = new Map(MODEL_CLASSES.map((m) => [`${m.apiVersion}/${m.kind}`, m]));
const KUSTOMIZE_API_VERSIONS = ['kustomize.config.k8s.io/v1beta1'];

function validateManifest(obj: KubeObject): void {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  if (obj.kind === 'Kustomization') {
    if (!KUSTOMIZE_API_VERSIONS.includes(String(obj.apiVersion))) {
      throw new Error(`unexpected Kustomization apiVersion ${String(obj.apiVersion)}`);
    }
    return;
  }
  const Model = MODELS.get(key);
  if (!Model) throw new Error(`unknown apiVersion/kind ${key}`);
  // Throws with the JSON-schema errors (types, enums, required fields).
  new Model(obj).validate();
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// ---- small helpers --------------------------------------------------------------------------------

function docsOfKind<T>(kind: string, docs: readonly ManifestDoc[] = BASE_DOCS): T[] {
  return docs.filter((d) => d.obj.kind === kind).map((d) => d.obj as unknown as T);
}

function named<T extends { metadata?: { name?: string } }>(items: T[], name: string): T {
  const found = items.filter((i) => i.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected exactly one ${name}, found ${found.length}`);
  return found[0];
}

function matchesSelector(selector: ILabelSelector | undefined, labels: Record<string, string>) {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return byLabels && byExpressions;
}

/** Kubernetes resource quantity ("250m", "1", "512Mi", "1G") as a plain number. */
function parseQuantity(quantity: string | number | undefined): number {
  if (quantity === undefined) return NaN;
  const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(quantity));
  if (!match) return NaN;
  const factor: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(match[1]) * (match[2] ? factor[match[2]] : 1);
}

function resolvePort(container: IContainer, port: string | number | undefined) {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function podSpecOf(workload: IDeployment | IJob): IPodSpec {
  const spec = workload.spec?.template.spec;
  if (!spec) throw new Error(`${workload.metadata?.name}: no pod spec`);
  return spec;
}

function podLabelsOf(workload: IDeployment | IJob): Record<string, string> {
  return workload.spec?.template.metadata?.labels ?? {};
}

function appContainer(deployment: IDeployment, app: PlatformApp): IContainer {
  const container = podSpecOf(deployment).containers.find((c) => c.name === app.name);
  if (!container) throw new Error(`${app.name}: no container named ${app.name}`);
  return container;
}

const deployments = () => docsOfKind<IDeployment>('Deployment');
/** A CronJob's job template, as the Job it creates (named after the CronJob). */
function jobOfCronJob(cron: ICronJob): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: cron.metadata,
    spec: cron.spec?.jobTemplate.spec,
  };
}
/** Every Job the manifests run: the one-off Jobs and the ones the CronJobs create. */
const jobsIn = (docs: readonly ManifestDoc[] = BASE_DOCS) =>
  docsOfKind<IJob>('Job', docs).concat(docsOfKind<ICronJob>('CronJob', docs).map(jobOfCronJob));
const jobs = () => jobsIn();
const workloads = (): Array<IDeployment | IJob> => [...deployments(), ...jobs()];
const baseConfigMaps = () => docsOfKind<IConfigMap>('ConfigMap');
const baseSecrets = () => docsOfKind<ISecret>('Secret');

/** The hardening every container of every workload must have (pod-level values are inherited). */
function hardeningOf(spec: IPodSpec) {
  const pod = spec.securityContext ?? {};
  return [...(spec.initContainers ?? []), ...spec.containers].map((c) => {
    const sc = c.securityContext ?? {};
    const runAsUser = sc.runAsUser ?? pod.runAsUser;
    return {
      container: c.name,
      runAsNonRoot: sc.runAsNonRoot ?? pod.runAsNonRoot,
      // Numeric, or the kubelet cannot verify runAsNonRoot for an image with a named USER.
      numericNonRootUser: typeof runAsUser === 'number' && runAsUser > 0,
      readOnlyRootFilesystem: sc.readOnlyRootFilesystem,
      allowPrivilegeEscalation: sc.allowPrivilegeEscalation,
      privileged: sc.privileged ?? false,
      dropsAll: sc.capabilities?.drop?.includes('ALL') ?? false,
      addsCapabilities: sc.capabilities?.add ?? [],
      seccomp: (sc.seccompProfile ?? pod.seccompProfile)?.type,
    };
  });
}

const HARDENED = {
  runAsNonRoot: true,
  numericNonRootUser: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  dropsAll: true,
  addsCapabilities: [],
  seccomp: 'RuntimeDefault',
};

/** Where each environment variable of a container comes from. */
function envSources(container: IContainer) {
  const sources = new Map<string, 'literal' | 'configMap' | 'secret' | 'field'>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = named(baseConfigMaps(), from.configMapRef.name ?? '');
      for (const key of Object.keys(cm.data ?? {}))
        sources.set(`${from.prefix ?? ''}${key}`, 'configMap');
    }
    if (from.secretRef) {
      const secret = named(baseSecrets(), from.secretRef.name ?? '');
      const keys = [...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})];
      for (const key of keys) sources.set(`${from.prefix ?? ''}${key}`, 'secret');
    }
  }
  for (const env of container.env ?? []) {
    if (env.valueFrom?.secretKeyRef) sources.set(env.name, 'secret');
    else if (env.valueFrom?.configMapKeyRef) sources.set(env.name, 'configMap');
    else if (env.valueFrom) sources.set(env.name, 'field');
    else sources.set(env.name, 'literal');
  }
  return sources;
}

function scriptOf(container: IContainer): string {
  return [...(container.command ?? []), ...(container.args ?? [])].join(' ');
}

// ---- tests ----------------------------------------------------------------------------------------

describe('k8s manifests', () => {
  describe('schema validation', () => {
    it('should find the kustomizations and the base manifests', () => {
      expect(KUSTOMIZATION_DIRS.map((d) => relative(K8S_ROOT, d))).toEqual(
        expect.arrayContaining(['base']),
      );
      expect(BASE_DOCS.length).toBeGreaterThanOrEqual(5 * 4 + 5);
    });

    it.each(ALL_DOCS.map((d) => [`${d.where} ${String(d.obj.kind)}`, d] as const))(
      'should match the Kubernetes schema: %s',
      (_label, doc) => {
        try {
          validateManifest(doc.obj);
        } catch (error) {
          throw new Error(`${doc.where}: ${(error as Error).message}`);
        }
      },
    );

    it('should reject a Deployment with a wrongly typed or missing field', () => {
      const gateway = named(deployments(), 'gateway');
      const wrongType = { ...structuredClone(gateway), spec: { ...gateway.spec, replicas: 'two' } };
      expect(() => validateManifest(wrongType as unknown as KubeObject)).toThrow(/replicas/);

      const noSelector = structuredClone(gateway);
      delete (noSelector.spec as Partial<NonNullable<IDeployment['spec']>>).selector;
      expect(() => validateManifest(noSelector as unknown as KubeObject)).toThrow(/selector/);
    });

    it('should check the Prometheus Operator kinds against their CRD schemas', () => {
      const monitor = {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'm' },
        spec: { selector: {}, endpoints: [{ port: 'management', interval: 'every minute' }] },
      };
      expect(() => validateManifest(monitor)).toThrow(/interval/);
      const rule = {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'r' },
        spec: { groups: [{ name: 'g', rules: [{ alert: 'NoExpression' }] }] },
      };
      expect(() => validateManifest(rule)).toThrow(/expr/);
    });

    it('should reject a kind it has no schema for', () => {
      const crd = { apiVersion: 'kafka.strimzi.io/v1beta2', kind: 'KafkaTopic', metadata: {} };
      expect(() => validateManifest(crd)).toThrow(/unknown apiVersion\/kind/);
    });

    it('should name every object with a DNS-1123 label, once per kind', () => {
      for (const dir of KUSTOMIZATION_DIRS) {
        const seen = new Set<string>();
        for (const doc of ALL_DOCS.filter((d) => d.dir === dir && d.obj.kind !== 'Kustomization')) {
          const name = String(doc.obj.metadata?.name);
          expect({ where: doc.where, nameOk: DNS_1123_LABEL.test(name) }).toEqual({
            where: doc.where,
            nameOk: true,
          });
          const key = `${String(doc.obj.kind)}/${name}`;
          expect({ where: doc.where, duplicate: seen.has(key) }).toEqual({
            where: doc.where,
            duplicate: false,
          });
          seen.add(key);
        }
      }
    });

    it('should keep the base namespace-agnostic', () => {
      const namespaced = BASE_DOCS.filter((d) => d.obj.metadata?.namespace !== undefined);
      expect(namespaced.map((d) => d.where)).toEqual([]);
      expect(BASE_DOCS.filter((d) => d.obj.kind === 'Namespace').map((d) => d.where)).toEqual([]);
    });
  });

  describe('kustomization files', () => {
    const kustomizations = KUSTOMIZATION_DIRS.map((dir) => {
      const doc = ALL_DOCS.find(
        (d) => d.dir === dir && d.where.startsWith(relative(REPO_ROOT, join(dir, 'kustomization'))),
      );
      if (!doc) throw new Error(`${dir}: kustomization.yaml not loaded`);
      return [relative(REPO_ROOT, dir), dir, doc.obj] as const;
    });

    it.each(kustomizations)(
      'should list every manifest of %s and only paths that exist',
      (_label, dir, k) => {
        expect(k.kind).toBe('Kustomization');
        const refs: string[] = [];
        const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
        refs.push(...strings(k.resources), ...strings(k.components), ...strings(k.crds));
        for (const patch of Array.isArray(k.patches) ? k.patches : []) {
          if (isRecord(patch) && typeof patch.path === 'string') refs.push(patch.path);
        }
        for (const gen of [k.configMapGenerator, k.secretGenerator]) {
          for (const g of Array.isArray(gen) ? gen : []) {
            if (isRecord(g)) refs.push(...strings(g.files), ...strings(g.envs));
          }
        }
        for (const ref of refs) {
          const target = resolve(dir, ref.replace(/^[^=]+=/, ''));
          const exists =
            existsSync(target) &&
            (statSync(target).isFile() || existsSync(join(target, 'kustomization.yaml')));
          expect({ ref, exists }).toEqual({ ref, exists: true });
        }
        const listed = new Set(refs.map((r) => resolve(dir, r)));
        const unlisted = readdirSync(dir)
          .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
          .filter((f) => !listed.has(join(dir, f)));
        expect(unlisted).toEqual([]);
      },
    );

    it('should set the platform image tag in the base and no namespace', () => {
      const base = kustomizations.find(([, dir]) => dir === BASE_DIR)?.[2];
      expect(base?.namespace).toBeUndefined();
      expect(base?.images).toEqual([
        expect.objectContaining({ name: IMAGE_NAME, newTag: expect.any(String) }),
      ]);
    });

    it('should use the bare platform image so that kustomize sets its tag', () => {
      const images = workloads().flatMap((w) => podSpecOf(w).containers.map((c) => c.image));
      const platform = images.filter((i) => i?.startsWith(IMAGE_NAME));
      expect(platform.length).toBe(APPS.length + 3); // five apps + migrate + kafka-topics + sweep-orphans
      expect(new Set(platform)).toEqual(new Set([IMAGE_NAME]));
    });
  });

  describe.each(APPS)('app $name', (app) => {
    const deployment = () => named(deployments(), app.name);
    const podLabels = () => podLabelsOf(deployment());
    const otherAppsPodLabels = () =>
      APP_NAMES.filter((n) => n !== app.name).map((n) => podLabelsOf(named(deployments(), n)));

    it('should have a Deployment whose selector matches its pod labels', () => {
      const d = deployment();
      expect(podLabels()).toMatchObject({ 'app.kubernetes.io/name': app.name, ...PART_OF });
      expect(matchesSelector(d.spec?.selector, podLabels())).toBe(true);
      for (const other of otherAppsPodLabels()) {
        expect(matchesSelector(d.spec?.selector, other)).toBe(false);
      }
    });

    it('should run its own entry point on its port, with its management listener on another', () => {
      const c = appContainer(deployment(), app);
      expect(scriptOf(c)).toBe(`node dist/apps/${app.name}/src/main.js`);
      expect(c.ports).toEqual([
        expect.objectContaining({ containerPort: app.port, name: 'http' }),
        expect.objectContaining({ containerPort: app.managementPort, name: 'management' }),
      ]);
      expect(c.env?.find((e) => e.name === 'PORT')?.value).toBe(String(app.port));
      expect(c.env?.find((e) => e.name === 'MANAGEMENT_PORT')?.value).toBe(
        String(app.managementPort),
      );
    });

    it('should be scraped on the management port, which its Service does not expose', () => {
      const annotations = deployment().spec?.template.metadata?.annotations ?? {};
      expect(annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(app.managementPort),
        'prometheus.io/path': '/metrics',
      });
      const service = named(docsOfKind<IService>('Service'), app.name);
      const c = appContainer(deployment(), app);
      const exposed = (service.spec?.ports ?? []).map((p) =>
        resolvePort(c, p.targetPort ?? p.port),
      );
      expect(exposed).toEqual([app.port]);
    });

    it('should probe /health/live and /health/ready on the container port', () => {
      const c = appContainer(deployment(), app);
      const probe = (p: IContainer['livenessProbe']) => ({
        path: p?.httpGet?.path,
        port: resolvePort(c, p?.httpGet?.port),
      });
      expect(probe(c.livenessProbe)).toEqual({ path: '/health/live', port: app.port });
      expect(probe(c.readinessProbe)).toEqual({ path: '/health/ready', port: app.port });
      expect(probe(c.startupProbe)).toEqual({ path: '/health/live', port: app.port });
      // The startup probe must give the app time to boot before liveness can kill it.
      const startupBudget =
        (c.startupProbe?.periodSeconds ?? 10) * (c.startupProbe?.failureThreshold ?? 3);
      expect(startupBudget).toBeGreaterThanOrEqual(30);
    });

    it('should request and limit CPU and memory', () => {
      const { requests = {}, limits = {} } = appContainer(deployment(), app).resources ?? {};
      for (const resource of ['cpu', 'memory']) {
        const request = parseQuantity(requests[resource]);
        const limit = parseQuantity(limits[resource]);
        expect({ resource, request: request > 0, limit: limit >= request }).toEqual({
          resource,
          request: true,
          limit: true,
        });
      }
    });

    it('should run as non-root with a read-only root filesystem and no capabilities', () => {
      const spec = podSpecOf(deployment());
      expect(hardeningOf(spec)).toEqual([{ container: app.name, ...HARDENED }]);
      expect(spec.hostNetwork ?? false).toBe(false);
      expect(spec.automountServiceAccountToken).toBe(false);
    });

    it('should drain on SIGTERM within the grace period', () => {
      const spec = podSpecOf(deployment());
      const preStop = appContainer(deployment(), app).lifecycle?.preStop;
      const sleepSeconds = Number(preStop?.exec?.command?.join(' ').match(/^sleep (\d+)$/)?.[1]);
      expect(sleepSeconds).toBeGreaterThanOrEqual(2);
      expect(sleepSeconds).toBeLessThanOrEqual(15);
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleepSeconds + 20);
      expect(spec.terminationGracePeriodSeconds).toBeLessThanOrEqual(60);
      expect(deployment().spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    });

    it('should receive every variable it needs, credentials only from the Secret', () => {
      const sources = envSources(appContainer(deployment(), app));
      const missing = requiredEnv(app).filter((name) => !sources.has(name));
      expect(missing).toEqual([]);
      const leaked = SECRET_ENV.filter(
        (name) => sources.has(name) && sources.get(name) !== 'secret',
      );
      expect(leaked).toEqual([]);
    });

    it("should read its own service token key, and no other app's", () => {
      const c = appContainer(deployment(), app);
      const keyOf = (name: string) =>
        c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.key;
      expect(keyOf('SERVICE_TOKEN_PRIVATE_KEY')).toBe(SERVICE_KEY_SECRETS[app.name]);
      expect(keyOf('SERVICE_TOKEN_PUBLIC_KEYS')).toBe('SERVICE_TOKEN_PUBLIC_KEYS');
    });

    it('should have a ClusterIP Service that selects only its pods', () => {
      const service = named(docsOfKind<IService>('Service'), app.name);
      expect(service.spec?.type ?? 'ClusterIP').toBe('ClusterIP');
      const selector = { matchLabels: service.spec?.selector ?? {} };
      expect(Object.keys(selector.matchLabels).length).toBeGreaterThan(0);
      expect(matchesSelector(selector, podLabels())).toBe(true);
      for (const other of otherAppsPodLabels())
        expect(matchesSelector(selector, other)).toBe(false);
      const [port] = service.spec?.ports ?? [];
      expect(port.port).toBe(app.port);
      expect(resolvePort(appContainer(deployment(), app), port.targetPort ?? port.port)).toBe(
        app.port,
      );
    });

    it('should have a PodDisruptionBudget that selects only its pods', () => {
      const pdb = named(docsOfKind<IPodDisruptionBudget>('PodDisruptionBudget'), app.name);
      expect(matchesSelector(pdb.spec?.selector, podLabels())).toBe(true);
      for (const other of otherAppsPodLabels()) {
        expect(matchesSelector(pdb.spec?.selector, other)).toBe(false);
      }
      // Exactly one of the two, and never a budget that blocks every eviction.
      const { minAvailable, maxUnavailable } = pdb.spec ?? {};
      expect([minAvailable, maxUnavailable].filter((v) => v !== undefined)).toHaveLength(1);
      expect(maxUnavailable === undefined || parseQuantity(maxUnavailable) >= 1).toBe(true);
    });

    if (app.autoscaled) {
      it('should scale its Deployment on CPU with a HorizontalPodAutoscaler', () => {
        const hpa = named(
          docsOfKind<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler'),
          app.name,
        );
        expect(hpa.spec?.scaleTargetRef).toEqual({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: deployment().metadata?.name,
        });
        const min = hpa.spec?.minReplicas ?? 1;
        expect(min).toBeGreaterThanOrEqual(2); // survives a PDB-respecting drain
        expect(hpa.spec?.maxReplicas).toBeGreaterThan(min);
        expect(hpa.spec?.metrics).toContainEqual({
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        });
        // A fixed replica count would fight the HPA on every apply.
        expect(deployment().spec?.replicas).toBeUndefined();
      });
    }
  });

  describe('ConfigMap and Secret', () => {
    it('should keep credentials out of the ConfigMap', () => {
      for (const cm of baseConfigMaps()) {
        expect(SECRET_ENV.filter((key) => key in (cm.data ?? {}))).toEqual([]);
      }
    });

    it('should hold only clearly marked placeholders in the base Secret', () => {
      const secret = named(baseSecrets(), 'platform-secrets');
      expect(secret.data).toBeUndefined();
      expect(Object.keys(secret.stringData ?? {}).sort()).toEqual([...SECRET_KEYS].sort());
      for (const [key, value] of Object.entries(secret.stringData ?? {})) {
        expect({ key, placeholder: value.includes('REPLACE_ME') }).toEqual({
          key,
          placeholder: true,
        });
      }
    });

    it("should trust exactly the ingress in front of the gateway to name the client's address", () => {
      const sources = envSources(appContainer(named(deployments(), 'gateway'), APPS[0]));
      expect(sources.get('TRUST_PROXY')).toBe('configMap');
      const trusted = named(baseConfigMaps(), 'platform-config').data?.TRUST_PROXY ?? '';
      // A hop count (each hop appends the address it saw), or the proxies' addresses/CIDRs.
      const hops = /^[1-9]$/.test(trusted);
      const cidrs = /^[0-9A-Fa-f.:]+\/\d{1,3}(,[0-9A-Fa-f.:]+\/\d{1,3})*$/.test(trusted);
      expect({ trusted, valid: hops || cidrs }).toEqual({ trusted, valid: true });
    });

    it('should bound the time a client may take to send the gateway a request, and not its body limits', () => {
      const gateway = appContainer(named(deployments(), 'gateway'), APPS[0]);
      const config = named(baseConfigMaps(), 'platform-config').data ?? {};
      const env = Object.fromEntries(
        [...envSources(gateway).keys()].map((key) => [key, config[key]]),
      );
      expect(gatewayHttpProblems(env)).toEqual([]);
    });

    it('should resolve every ConfigMap and Secret reference to an existing key', () => {
      const keysOf = (kind: 'ConfigMap' | 'Secret', name: string) => {
        const obj =
          kind === 'ConfigMap' ? named(baseConfigMaps(), name) : named(baseSecrets(), name);
        return Object.keys({ ...obj.data, ...('stringData' in obj ? obj.stringData : {}) });
      };
      for (const w of workloads()) {
        for (const c of podSpecOf(w).containers) {
          for (const from of c.envFrom ?? []) {
            if (from.configMapRef)
              expect(keysOf('ConfigMap', from.configMapRef.name ?? '')).not.toEqual([]);
            if (from.secretRef) expect(keysOf('Secret', from.secretRef.name ?? '')).not.toEqual([]);
          }
          for (const env of c.env ?? []) {
            const cmRef = env.valueFrom?.configMapKeyRef;
            const secretRef = env.valueFrom?.secretKeyRef;
            if (cmRef) expect(keysOf('ConfigMap', cmRef.name ?? '')).toContain(cmRef.key);
            if (secretRef) expect(keysOf('Secret', secretRef.name ?? '')).toContain(secretRef.key);
          }
        }
      }
    });

    it('should point each internal URL at the Service and port of its app', () => {
      const config = named(baseConfigMaps(), 'platform-config').data ?? {};
      for (const [key, target] of Object.entries(URL_ENV)) {
        const url = new URL(config[key]);
        const service = named(docsOfKind<IService>('Service'), url.hostname);
        expect({ key, service: service.metadata?.name, port: Number(url.port) }).toEqual({
          key,
          service: target,
          port: service.spec?.ports?.[0]?.port,
        });
      }
    });
  });

  describe('overlays', () => {
    const overlays = () =>
      ALL_DOCS.filter((d) => d.dir !== BASE_DIR && d.obj.kind === 'Kustomization');

    it('should write no credential: no Secret and no secret generator with values', () => {
      expect(overlays().length).toBeGreaterThan(0);
      const secrets = ALL_DOCS.filter((d) => d.dir !== BASE_DIR && d.obj.kind === 'Secret');
      expect(secrets.map((d) => d.where)).toEqual([]);
      for (const overlay of overlays()) {
        const generators = Array.isArray(overlay.obj.secretGenerator)
          ? overlay.obj.secretGenerator.filter(isRecord)
          : [];
        const withValues = generators.filter(
          (g) => g.literals !== undefined || g.files !== undefined || g.envs !== undefined,
        );
        expect({ where: overlay.where, withValues }).toEqual({
          where: overlay.where,
          withValues: [],
        });
      }
    });

    it('should hold none of the well-known credentials anywhere under k8s/', () => {
      for (const file of YAML_FILES) {
        const text = readFileSync(file, 'utf8');
        const found = WELL_KNOWN_SECRETS.filter((value) => text.includes(value));
        expect({ file: relative(REPO_ROOT, file), found }).toEqual({
          file: relative(REPO_ROOT, file),
          found: [],
        });
      }
    });
  });

  describe('Jobs', () => {
    it('should run the database migrations with the platform image and the database secret', () => {
      const job = named(jobs(), 'migrate');
      const spec = podSpecOf(job);
      expect(spec.containers).toHaveLength(1);
      const [c] = spec.containers;
      expect(c.image).toBe(IMAGE_NAME);
      expect(scriptOf(c)).toBe('node dist/tools/cli/main.js migrate');
      expect(envSources(c).get('DATABASE_URL')).toBe('secret');
      expect(['Never', 'OnFailure']).toContain(spec.restartPolicy);
      expect(job.spec?.backoffLimit).toBeGreaterThan(0);
    });

    it('should create the topics with the platform command and the layout from the ConfigMap', () => {
      const job = named(jobs(), 'kafka-topics');
      const [c] = podSpecOf(job).containers;
      expect(c.image).toBe(IMAGE_NAME);
      expect(scriptOf(c)).toBe('node dist/tools/cli/main.js kafka-topics');
      const sources = envSources(c);
      for (const key of [
        'KAFKA_BROKERS',
        'KAFKA_TOPIC_PARTITIONS',
        'KAFKA_TOPIC_REPLICATION_FACTOR',
        'KAFKA_TOPIC_MIN_INSYNC_REPLICAS',
      ])
        expect({ key, source: sources.get(key) }).toEqual({ key, source: 'configMap' });
      const config = named(baseConfigMaps(), 'platform-config').data ?? {};
      expect(config.KAFKA_TOPIC_PARTITIONS).toBe(String(KAFKA_PARTITIONS));
      expect(config.KAFKA_TOPIC_REPLICATION_FACTOR).toBe(String(KAFKA_REPLICATION_FACTOR));
      expect(Number(config.KAFKA_TOPIC_MIN_INSYNC_REPLICAS)).toBe(KAFKA_REPLICATION_FACTOR - 1);
    });

    it('should look for orphaned S3 bytes every hour, one run at a time, past the presigned-PUT lifetime, deleting nothing', () => {
      const cron = named(docsOfKind<ICronJob>('CronJob'), 'sweep-orphans');
      expect(cron.spec?.concurrencyPolicy).toBe('Forbid');
      expect(cron.spec?.schedule).toMatch(/^\d+ \* \* \* \*$/);
      const spec = podSpecOf(jobOfCronJob(cron));
      const [c] = spec.containers;
      expect(c.image).toBe(IMAGE_NAME);
      const [, minutes] =
        scriptOf(c).match(
          /^node dist\/tools\/cli\/main\.js sweep-orphans --older-than-minutes (\d+) --dry-run$/,
        ) ?? [];
      // Uploads in progress (presigned PUT URLs live at most an hour) must never look orphaned.
      expect(Number(minutes)).toBeGreaterThanOrEqual(120);
      // Deleting is the operator's choice: an overlay replaces `--dry-run` (args/5) with `--delete`.
      expect(c.args?.[5]).toBe('--dry-run');
      const sources = envSources(c);
      for (const key of ['DATABASE_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'])
        expect({ key, source: sources.get(key) }).toEqual({ key, source: 'secret' });
      for (const key of ['S3_BUCKET', 'S3_REGION'])
        expect({ key, source: sources.get(key) }).toEqual({ key, source: 'configMap' });
    });

    it.each(['migrate', 'kafka-topics', 'sweep-orphans'])(
      'should harden the %s Job like the apps',
      (name) => {
        const spec = podSpecOf(named(jobs(), name));
        expect(hardeningOf(spec)).toEqual(
          spec.containers.map((c) => ({ container: c.name, ...HARDENED })),
        );
        for (const c of spec.containers) {
          expect(parseQuantity(c.resources?.limits?.memory)).toBeGreaterThan(0);
          expect(parseQuantity(c.resources?.requests?.cpu)).toBeGreaterThan(0);
        }
      },
    );
  });

  describe('NetworkPolicy', () => {
    const policies = () => docsOfKind<INetworkPolicy>('NetworkPolicy');
    // A pod of the same namespace that is not part of the platform.
    const FOREIGN_POD = { app: 'something-else' };
    const DNS = ['UDP/53', 'TCP/53'];
    /** What public addresses exclude: the private ranges pods and Services live in. */
    const PRIVATE_RANGES = [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '169.254.0.0/16',
      '127.0.0.0/8',
    ];

    /** The workloads whose pods `selector` selects, by name. */
    const selected = (selector: ILabelSelector) => {
      const names = workloads()
        .filter((w) => matchesSelector(selector, podLabelsOf(w)))
        .map((w) => String(w.metadata?.name));
      return matchesSelector(selector, FOREIGN_POD) ? [...names, 'foreign-pods'] : names;
    };

    /** Who may open connections to pods with these labels, and on which ports. */
    function ingressTo(labels: Record<string, string>, container?: IContainer) {
      const selecting = policies().filter(
        (p) =>
          matchesSelector(p.spec?.podSelector, labels) &&
          (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress'),
      );
      const allowed = new Map<string, Set<number | 'any'>>();
      const allow = (source: string, ports: Array<number | 'any'>) => {
        const set = allowed.get(source) ?? new Set();
        ports.forEach((p) => set.add(p));
        allowed.set(source, set);
      };
      for (const policy of selecting) {
        for (const rule of policy.spec?.ingress ?? []) {
          const ports: Array<number | 'any'> = rule.ports?.length
            ? rule.ports.map((p) => (container ? resolvePort(container, p.port) : p.port) as number)
            : ['any'];
          if (!rule.from?.length) allow('anywhere', ports);
          for (const peer of rule.from ?? []) {
            if (peer.ipBlock) allow('ip-block', ports);
            if (peer.namespaceSelector) allow('other-namespaces', ports);
            if (peer.podSelector && !peer.namespaceSelector) {
              for (const name of selected(peer.podSelector)) allow(name, ports);
            }
          }
        }
      }
      return { isolated: selecting.length > 0, allowed };
    }

    /**
     * Where pods with these labels may open connections: `anywhere`, a workload's name, or `public` (an
     * ipBlock of every address but the private ranges), each with its ports (`TCP/5432`, `TCP/9092-9098`,
     * `any`).
     */
    function egressFrom(labels: Record<string, string>) {
      const selecting = policies().filter(
        (p) =>
          matchesSelector(p.spec?.podSelector, labels) && p.spec?.policyTypes?.includes('Egress'),
      );
      const allowed: Record<string, string[]> = {};
      const allow = (destination: string, ports: string[]) => {
        allowed[destination] = [...new Set([...(allowed[destination] ?? []), ...ports])].sort();
      };
      for (const policy of selecting) {
        for (const rule of policy.spec?.egress ?? []) {
          const ports = rule.ports?.length
            ? rule.ports.map(
                (p) =>
                  `${p.protocol ?? 'TCP'}/${String(p.port)}${p.endPort ? `-${p.endPort}` : ''}`,
              )
            : ['any'];
          if (!rule.to?.length) allow('anywhere', ports);
          for (const peer of rule.to ?? []) {
            if (peer.namespaceSelector) allow('other-namespaces', ports);
            else if (peer.podSelector)
              for (const name of selected(peer.podSelector)) allow(name, ports);
            if (peer.ipBlock) {
              const { cidr, except = [] } = peer.ipBlock;
              const isPublic =
                cidr === '::/0' ||
                (cidr === '0.0.0.0/0' && PRIVATE_RANGES.every((r) => except.includes(r)));
              allow(isPublic ? 'public' : `ip-block ${cidr}`, ports);
            }
          }
        }
      }
      return { isolated: selecting.length > 0, allowed };
    }

    /** Which apps call each app, as its code says (`@CalledBy(...)` on its internal routes). */
    const callersOf = (app: string): string[] => {
      const sources = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory()
            ? sources(join(dir, e.name))
            : /(?<!spec)\.ts$/.test(e.name)
              ? [readFileSync(join(dir, e.name), 'utf8')]
              : [],
        );
      const callers = sources(join(REPO_ROOT, 'apps', app, 'src')).flatMap((text) =>
        [...text.matchAll(/@CalledBy\(([^)]*)\)/g)].flatMap(([, args]) =>
          args.split(',').map((a) => a.trim().replace(/^'|'$/g, '')),
        ),
      );
      return [...new Set(callers)].sort();
    };

    /** What `dependencies` allow, by destination. */
    const expectedEgress = (dependencies: readonly Dependency[]) => {
      const expected: Record<string, string[]> = {
        anywhere: [
          ...DNS,
          ...dependencies.flatMap((d) => (d === 'public' ? [] : [DEPENDENCY_PORTS[d]])),
        ].sort(),
      };
      if (dependencies.includes('public')) expected.public = ['any'];
      return expected;
    };

    it('should isolate every platform pod, in and out but DNS (default deny)', () => {
      const denyAll = policies().filter(
        (p) =>
          (p.spec?.ingress ?? []).length === 0 &&
          p.spec?.policyTypes?.includes('Ingress') &&
          p.spec?.policyTypes?.includes('Egress'),
      );
      expect(denyAll.length).toBeGreaterThan(0);
      for (const policy of denyAll) {
        expect(egressFrom(policy.spec?.podSelector?.matchLabels ?? {}).allowed.anywhere).toEqual(
          expect.arrayContaining(DNS),
        );
        const ports = (policy.spec?.egress ?? []).flatMap((r) => r.ports ?? []).map((p) => p.port);
        expect(new Set(ports)).toEqual(new Set([53]));
      }
      for (const w of workloads()) {
        const labels = podLabelsOf(w);
        expect(labels).toMatchObject(PART_OF);
        const covered = denyAll.some((p) => matchesSelector(p.spec?.podSelector, labels));
        expect({ workload: w.metadata?.name, covered }).toEqual({
          workload: w.metadata?.name,
          covered: true,
        });
      }
    });

    it('should let only the gateway accept traffic from outside, on its port only', () => {
      const gateway = named(deployments(), 'gateway');
      const { isolated, allowed } = ingressTo(podLabelsOf(gateway), appContainer(gateway, APPS[0]));
      expect(isolated).toBe(true);
      expect([...(allowed.get('anywhere') ?? [])]).toEqual([3000]);
    });

    it.each(APPS.filter((a) => a.name !== 'gateway'))(
      'should let $name accept traffic only from the apps its code answers, on its port',
      (app) => {
        const deployment = named(deployments(), app.name);
        const { isolated, allowed } = ingressTo(
          podLabelsOf(deployment),
          appContainer(deployment, app),
        );
        expect(isolated).toBe(true);
        const callers = callersOf(app.name);
        expect(callers.length).toBeGreaterThan(0);
        expect([...allowed.keys()].sort()).toEqual(callers);
        for (const source of callers) {
          expect({ source, ports: [...(allowed.get(source) ?? [])] }).toEqual({
            source,
            ports: [app.port],
          });
        }
      },
    );

    it.each(APPS)(
      'should let $name reach only DNS, the apps it calls on their ports and its dependencies',
      (app) => {
        const { isolated, allowed } = egressFrom(podLabelsOf(named(deployments(), app.name)));
        expect(isolated).toBe(true);
        const expected = expectedEgress(app.dependencies);
        for (const target of APPS) {
          if (callersOf(target.name).includes(app.name)) {
            expected[target.name] = [`TCP/${target.port}`];
          }
        }
        expect(allowed).toEqual(expected);
      },
    );

    it("should keep the flow-orchestrator's public egress off the private ranges", () => {
      const policy = policies().find(
        (p) => p.spec?.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'flow-orchestrator',
      );
      const blocks = (policy?.spec?.egress ?? [])
        .flatMap((r) => r.to ?? [])
        .flatMap((peer) => (peer.ipBlock ? [peer.ipBlock] : []));
      expect(blocks).toEqual([
        { cidr: '0.0.0.0/0', except: PRIVATE_RANGES },
        { cidr: '::/0', except: ['fc00::/7', 'fe80::/10', '::1/128'] },
      ]);
    });

    it('should let nothing connect to the Jobs, and each Job reach only its dependencies', () => {
      for (const job of jobs()) {
        const name = String(job.metadata?.name);
        const { isolated, allowed } = ingressTo(podLabelsOf(job));
        expect({ job: name, isolated, sources: [...allowed.keys()] }).toEqual({
          job: name,
          isolated: true,
          sources: [],
        });
        expect({ job: name, egress: egressFrom(podLabelsOf(job)).allowed }).toEqual({
          job: name,
          egress: expectedEgress(JOB_DEPENDENCIES[name]),
        });
      }
    });
  });

  // ---- rendered output, when a kustomize binary is available ---------------------------------------

  const kustomize = findKustomize();
  (kustomize ? describe : describe.skip)('kustomize build', () => {
    it.each(KUSTOMIZATION_DIRS.map((d) => [relative(REPO_ROOT, d), d] as const))(
      'should render %s into valid manifests with the image tag resolved',
      (label, dir) => {
        const rendered = render(kustomize ?? [], dir, label);
        expect(rendered.length).toBeGreaterThanOrEqual(BASE_DOCS.length);
        for (const doc of rendered) {
          expect(() => validateManifest(doc.obj)).not.toThrow();
        }
        const k = ALL_DOCS.find((d) => d.dir === dir && d.obj.kind === 'Kustomization')?.obj;
        const override = (Array.isArray(k?.images) ? k.images : [])
          .filter(isRecord)
          .find((i) => i.name === IMAGE_NAME);
        // The overlay's registry if it names one.
        const name = typeof override?.newName === 'string' ? override.newName : IMAGE_NAME;
        const images = docsOfKind<IDeployment | IJob>('Deployment', rendered)
          .concat(jobsIn(rendered))
          .flatMap((w) => podSpecOf(w).containers.map((c) => c.image ?? ''))
          .filter((image) => image.startsWith(`${name}:`));
        expect(images.length).toBe(APPS.length + 3); // five apps + migrate + kafka-topics + sweep-orphans
        // The overlay's own tag if it sets one, the base tag otherwise; never an untagged image.
        for (const image of images) expect(image).toMatch(/:[\w.-]+$/);
        if (typeof override?.newTag === 'string')
          for (const image of images) expect(image).toBe(`${name}:${override.newTag}`);
        // Credentials come from the cluster (kubectl, Sealed/External Secrets), never from a render.
        for (const secret of docsOfKind<ISecret>('Secret', rendered)) {
          expect(secret.data).toBeUndefined();
          for (const [key, value] of Object.entries(secret.stringData ?? {}))
            expect({ key, placeholder: value.includes('REPLACE_ME') }).toEqual({
              key,
              placeholder: true,
            });
        }
        const namespace = typeof k?.namespace === 'string' ? k.namespace : undefined;
        for (const doc of rendered.filter((d) => d.obj.kind !== 'Namespace')) {
          expect({ where: doc.where, namespace: doc.obj.metadata?.namespace }).toEqual({
            where: doc.where,
            namespace,
          });
        }
      },
    );
  });
  // ---- the production overlay, rendered ----------------------------------------------------------

  (kustomize ? describe : describe.skip)('production overlay', () => {
    const PRODUCTION_DIR = join(K8S_ROOT, 'overlays', 'production');
    const README = readFileSync(join(K8S_ROOT, 'README.md'), 'utf8');
    /**
     * The Secrets the platform team creates, and their keys: what the README documents, and all the
     * production workloads may read.
     */
    const PLATFORM_TEAM_SECRETS: Record<string, string[]> = {
      'platform-secrets': SECRET_KEYS.filter(
        (k) => !['DATABASE_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].includes(k),
      ),
      'platform-postgres': ['DATABASE_URL', 'ca.pem'],
      'platform-redis': ['REDIS_URL'],
      'platform-kafka': ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'ca.pem'],
      'gateway-tls': ['tls.crt', 'tls.key'],
    };
    /** Credentials besides SECRET_ENV that production reads from its Secrets. */
    const PRODUCTION_SECRET_ENV = [...SECRET_ENV, 'REDIS_URL', 'KAFKA_SASL_PASSWORD'];
    /** A small managed Postgres, and the share of it the platform may take at its peak. */
    const MAX_CONNECTIONS = 100;
    const PLATFORM_SHARE = 0.8;
    /** Connections each Job opens (migrate: a one-connection DataSource; sweep-orphans: one pg Client). */
    const JOB_CONNECTIONS: Readonly<Record<string, number>> = { migrate: 1, 'sweep-orphans': 1 };

    let rendered: ManifestDoc[];
    beforeAll(() => {
      rendered = render(kustomize ?? [], PRODUCTION_DIR, 'k8s/overlays/production');
    });
    const of = <T>(kind: string) => docsOfKind<T>(kind, rendered);
    const deployment = (name: string) => named(of<IDeployment>('Deployment'), name);
    const productionWorkloads = (): Array<IDeployment | IJob> => [
      ...of<IDeployment>('Deployment'),
      ...jobsIn(rendered),
    ];
    const config = () => {
      const [cm] = of<IConfigMap>('ConfigMap');
      return { name: cm.metadata?.name ?? '', data: cm.data ?? {} };
    };
    /** Where each variable of a rendered container comes from: `configMap`, `secret <name>`, `literal`. */
    const sourcesOf = (c: IContainer) => {
      const sources = new Map<string, string>();
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef?.name === config().name)
          for (const key of Object.keys(config().data)) sources.set(key, 'configMap');
      }
      for (const env of c.env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        sources.set(env.name, ref ? `secret ${ref.name}` : env.valueFrom ? 'field' : 'literal');
      }
      return sources;
    };
    /** The README's table under `heading`: its rows as cells, the first being the row's name. */
    const readmeTable = (heading: string): string[][] => {
      const section = README.slice(README.indexOf(heading));
      const lines = section.split('\n').slice(1);
      const start = lines.findIndex((l) => l.startsWith('|'));
      const table = lines.slice(
        start,
        lines.findIndex((l, i) => i > start && !l.startsWith('|')),
      );
      return table.slice(2).map((row) =>
        row
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    };

    it('should render only the ConfigMap it generates, named by the hash of its content, and reference it from every workload', () => {
      expect(of<IConfigMap>('ConfigMap')).toHaveLength(1);
      expect(config().name).toMatch(/^production-config-[a-z0-9]{10}$/);
      for (const w of productionWorkloads()) {
        for (const c of podSpecOf(w).containers) {
          expect({ workload: w.metadata?.name, envFrom: c.envFrom }).toEqual({
            workload: w.metadata?.name,
            envFrom: [{ configMapRef: { name: config().name } }],
          });
        }
      }
    });

    it('should give every pod template a new ConfigMap name when a setting changes', () => {
      const copy = mkdtempSync(join(tmpdir(), 'k8s-'));
      try {
        cpSync(K8S_ROOT, copy, { recursive: true });
        const env = join(copy, 'overlays', 'production', 'production.env');
        const settings = readFileSync(env, 'utf8');
        expect(settings).toContain('\nLOG_LEVEL=info\n');
        writeFileSync(env, settings.replace('\nLOG_LEVEL=info\n', '\nLOG_LEVEL=debug\n'));
        const changed = render(kustomize ?? [], join(copy, 'overlays', 'production'), 'copy');
        const names = (docs: ManifestDoc[]) =>
          docsOfKind<IDeployment>('Deployment', docs).map(
            (d) => podSpecOf(d).containers[0].envFrom?.[0].configMapRef?.name,
          );
        const before = names(rendered);
        const after = names(changed);
        expect(after).toHaveLength(APPS.length);
        for (const [i, name] of after.entries()) {
          expect(name).toMatch(/^production-config-/);
          expect(name).not.toBe(before[i]);
        }
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it('should render no Secret and read only the Secrets and keys the README documents', () => {
      expect(of<ISecret>('Secret')).toEqual([]);
      const production = README.slice(README.indexOf('## Production'));
      for (const [name, keys] of Object.entries(PLATFORM_TEAM_SECRETS)) {
        expect({ name, documented: production.includes(`\`${name}\``) }).toEqual({
          name,
          documented: true,
        });
        for (const key of keys)
          expect({ name, key, documented: production.includes(`\`${key}\``) }).toEqual({
            name,
            key,
            documented: true,
          });
      }
      const read: string[] = [];
      for (const w of productionWorkloads()) {
        const spec = podSpecOf(w);
        for (const c of spec.containers)
          for (const env of c.env ?? []) {
            const ref = env.valueFrom?.secretKeyRef;
            if (ref) read.push(`${ref.name}/${ref.key}`);
          }
        for (const v of spec.volumes ?? [])
          for (const item of v.secret?.items ?? [])
            read.push(`${v.secret?.secretName}/${item.key}`);
      }
      for (const ingress of of<IIngress>('Ingress'))
        for (const tls of ingress.spec?.tls ?? []) read.push(`${tls.secretName}/tls.crt`);
      const allowed = Object.entries(PLATFORM_TEAM_SECRETS).flatMap(([n, keys]) =>
        keys.map((k) => `${n}/${k}`),
      );
      expect([...new Set(read)].filter((r) => !allowed.includes(r))).toEqual([]);
      expect(read.length).toBeGreaterThan(0);
    });

    it.each(APPS)(
      'should give $name every variable it needs, credentials from Secrets only',
      (app) => {
        const sources = sourcesOf(appContainer(deployment(app.name), app));
        // S3 credentials come from the pod's role: no static key, in any form.
        const needed = requiredEnv(app).filter(
          (n) => !['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].includes(n),
        );
        expect(needed.filter((n) => !sources.has(n))).toEqual([]);
        expect(['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((n) => sources.has(n))).toEqual(
          [],
        );
        const leaked = PRODUCTION_SECRET_ENV.filter(
          (n) => sources.has(n) && !sources.get(n)?.startsWith('secret '),
        );
        expect(leaked).toEqual([]);
      },
    );

    it('should reach Kafka over TLS with SASL, and Postgres verifying its CA, mounting each CA bundle where the settings say', () => {
      const { data } = config();
      expect(data).toMatchObject({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: expect.stringMatching(/^scram-sha-(256|512)$/),
      });
      const needs = (w: IDeployment | IJob, dependency: Dependency) => {
        const name = String(w.metadata?.name);
        const app = APPS.find((a) => a.name === name);
        return (app?.dependencies ?? JOB_DEPENDENCIES[name] ?? []).includes(dependency);
      };
      const mounted = (w: IDeployment | IJob, file: string) => {
        const spec = podSpecOf(w);
        return spec.containers.every((c) =>
          (c.volumeMounts ?? []).some((m) => {
            const volume = spec.volumes?.find((v) => v.name === m.name);
            return (
              m.mountPath === dirname(file) &&
              (volume?.secret?.items ?? []).some((i) => i.path === basename(file))
            );
          }),
        );
      };
      for (const w of productionWorkloads()) {
        const name = w.metadata?.name;
        const sources = sourcesOf(podSpecOf(w).containers[0]);
        if (needs(w, 'kafka')) {
          expect({ name, ca: mounted(w, data.KAFKA_SSL_CA_FILE) }).toEqual({ name, ca: true });
          expect({ name, password: sources.get('KAFKA_SASL_PASSWORD') }).toEqual({
            name,
            password: 'secret platform-kafka',
          });
        }
        if (needs(w, 'postgres')) {
          expect({ name, ca: mounted(w, data.DATABASE_CA_FILE) }).toEqual({ name, ca: true });
          expect({ name, url: sources.get('DATABASE_URL') }).toEqual({
            name,
            url: 'secret platform-postgres',
          });
        }
      }
    });

    it('should prefix the topics and consumer groups of the environment', () => {
      const { data } = config();
      expect(data.KAFKA_TOPIC_PREFIX).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(data.KAFKA_GROUP_PREFIX).toMatch(/^[A-Za-z0-9._-]+$/);
    });

    it('should give each app a ServiceAccount of its own, without a token, with an IAM role exactly where the README table says', () => {
      const accounts = of<IServiceAccount>('ServiceAccount');
      const roles = readmeTable('### S3 access');
      expect(roles.length).toBeGreaterThan(0);
      const needsRole = new Map(
        roles.map(([name, actions]) => [name.replace(/`/g, ''), actions !== 'none']),
      );
      // Every app that reads S3 settings, and the sweep, is in the table.
      const s3Users = [
        ...APPS.filter((a) => a.env.includes('S3_BUCKET')).map((a) => a.name),
        'sweep-orphans',
      ];
      for (const name of s3Users)
        expect({ name, role: needsRole.get(name) }).toEqual({ name, role: true });
      for (const w of productionWorkloads()) {
        const spec = podSpecOf(w);
        const name = String(w.metadata?.name);
        const account = named(accounts, spec.serviceAccountName ?? '');
        expect({
          name,
          automount: spec.automountServiceAccountToken,
          account: account.automountServiceAccountToken,
        }).toEqual({
          name,
          automount: false,
          account: false,
        });
        const arn = account.metadata?.annotations?.['eks.amazonaws.com/role-arn'];
        if (APP_NAMES.includes(name as AppName) || name === 'sweep-orphans') {
          expect({ name, account: account.metadata?.name }).toEqual({ name, account: name });
        }
        expect({ name, role: arn !== undefined }).toEqual({
          name,
          role: needsRole.get(name) ?? false,
        });
        if (arn) expect(arn).toMatch(/^arn:aws:iam::\d{12}:role\/.+$/);
      }
    });

    it("should expose the gateway over TLS, streaming bodies up to 100 MiB within the gateway's deadlines", () => {
      const ingress = named(of<IIngress>('Ingress'), 'gateway');
      const a = ingress.metadata?.annotations ?? {};
      const hosts = (ingress.spec?.rules ?? []).map((r) => r.host);
      expect(hosts.length).toBeGreaterThan(0);
      expect(ingress.spec?.tls?.flatMap((t) => t.hosts ?? [])).toEqual(hosts);
      expect(ingress.spec?.tls?.every((t) => (t.secretName ?? '') !== '')).toBe(true);
      for (const rule of ingress.spec?.rules ?? [])
        for (const path of rule.http?.paths ?? [])
          expect(path.backend.service).toEqual({ name: 'gateway', port: { name: 'http' } });
      const bodyBytes = parseQuantity(
        a['nginx.ingress.kubernetes.io/proxy-body-size'].replace(/m$/, 'Mi'),
      );
      expect(bodyBytes).toBeGreaterThanOrEqual(100 * 2 ** 20);
      expect(bodyBytes).toBeLessThanOrEqual(128 * 2 ** 20);
      expect(a['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
      // The gateway's deadline ends a slow request (408), not the controller.
      const deadlineSeconds = Number(config().data.HTTP_REQUEST_TIMEOUT_MS) / 1000;
      for (const key of ['proxy-read-timeout', 'proxy-send-timeout'])
        expect(Number(a[`nginx.ingress.kubernetes.io/${key}`])).toBeGreaterThan(deadlineSeconds);
      expect(gatewayHttpProblems(config().data)).toEqual([]);
    });

    it('should trust one proxy hop, the ingress controller, which alone may reach the gateway', () => {
      expect(config().data.TRUST_PROXY).toBe('1');
      const policies = of<INetworkPolicy>('NetworkPolicy').filter((p) =>
        matchesSelector(p.spec?.podSelector, podLabelsOf(deployment('gateway'))),
      );
      const peers = policies
        .flatMap((p) => p.spec?.ingress ?? [])
        .filter((r) => (r.ports ?? []).some((port) => port.port === 3000 || port.port === 'http'));
      expect(peers).toHaveLength(1);
      expect(peers[0].from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      ]);
    });

    it('should scrape every app on its management port, let only the monitoring namespace in, and ship the alerts', () => {
      const services = of<IService>('Service');
      const [monitor] = rendered.filter((d) => d.obj.kind === 'ServiceMonitor').map((d) => d.obj);
      const spec = monitor.spec as {
        selector: ILabelSelector;
        endpoints: { port: string; path: string }[];
      };
      expect(spec.endpoints).toEqual([
        expect.objectContaining({ port: 'management', path: '/metrics' }),
      ]);
      const scraped = services.filter((s) =>
        matchesSelector(spec.selector, s.metadata?.labels ?? {}),
      );
      expect(scraped).toHaveLength(APPS.length);
      for (const app of APPS) {
        const service = scraped.find((s) =>
          matchesSelector({ matchLabels: s.spec?.selector }, podLabelsOf(deployment(app.name))),
        );
        const c = appContainer(deployment(app.name), app);
        const port = service?.spec?.ports?.find((p) => p.name === 'management');
        expect({ app: app.name, port: resolvePort(c, port?.targetPort) }).toEqual({
          app: app.name,
          port: app.managementPort,
        });
        const admitted = of<INetworkPolicy>('NetworkPolicy')
          .filter((p) => matchesSelector(p.spec?.podSelector, podLabelsOf(deployment(app.name))))
          .flatMap((p) => p.spec?.ingress ?? [])
          .filter((r) =>
            (r.ports ?? []).some((p) => resolvePort(c, p.port) === app.managementPort),
          );
        expect({ app: app.name, from: admitted.flatMap((r) => r.from ?? []) }).toEqual({
          app: app.name,
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
          ],
        });
      }
      expect(rendered.filter((d) => d.obj.kind === 'PrometheusRule')).toHaveLength(1);
    });

    it.each(APPS)('should run $name on 2 replicas at least, with a disruption budget', (app) => {
      const hpa = named(of<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler'), app.name);
      expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec?.maxReplicas).toBeGreaterThan(hpa.spec?.minReplicas ?? 1);
      const pdb = named(of<IPodDisruptionBudget>('PodDisruptionBudget'), app.name);
      expect(matchesSelector(pdb.spec?.selector, podLabelsOf(deployment(app.name)))).toBe(true);
    });

    it('should fit the Postgres connections of every pod at its peak (the most replicas, a rollout extra) in a small managed Postgres', () => {
      const peak: Record<string, number> = {};
      for (const d of of<IDeployment>('Deployment')) {
        const name = String(d.metadata?.name);
        const sources = sourcesOf(podSpecOf(d).containers[0]);
        if (!sources.has('DATABASE_URL')) continue;
        const pool = Number(
          podSpecOf(d).containers[0].env?.find((e) => e.name === 'DATABASE_POOL_SIZE')?.value,
        );
        const hpa = named(of<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler'), name);
        const surge = d.spec?.strategy?.rollingUpdate?.maxSurge;
        expect({ name, pool: pool > 0, surge: typeof surge }).toEqual({
          name,
          pool: true,
          surge: 'number',
        });
        peak[name] = ((hpa.spec?.maxReplicas ?? 0) + Number(surge)) * pool;
      }
      for (const job of jobsIn(rendered)) {
        const name = String(job.metadata?.name);
        if (sourcesOf(podSpecOf(job).containers[0]).has('DATABASE_URL'))
          peak[name] = JOB_CONNECTIONS[name];
      }
      expect(Object.keys(peak).sort()).toEqual([
        'flow-orchestrator',
        'gateway',
        'migrate',
        'object-metadata',
        'sweep-orphans',
        'usage-aggregator',
      ]);
      const total = Object.values(peak).reduce((a, b) => a + b, 0);
      expect({ peak, total, fits: total <= MAX_CONNECTIONS * PLATFORM_SHARE }).toEqual({
        peak,
        total,
        fits: true,
      });
    });
  });
});

/** The documents `kustomize` (`findKustomize`) renders from `dir`; fails the test if it cannot. */
function render(kustomize: string[], dir: string, label: string): ManifestDoc[] {
  const [cmd, ...args] = kustomize;
  const result = spawnSync(cmd, [...args, dir], { encoding: 'utf8', timeout: 60_000 });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return parseManifests(result.stdout, `${label} (rendered)`, dir);
}

/** `kustomize build` or `kubectl kustomize`, whichever is installed; undefined if neither. */
function findKustomize(): string[] | undefined {
  const candidates = [
    ['kustomize', 'build'],
    ['kubectl', 'kustomize'],
  ];
  return candidates.find(([cmd, sub]) => {
    const probe = spawnSync(cmd, [sub, '--help'], { encoding: 'utf8', timeout: 30_000 });
    return !probe.error && probe.status === 0;
  });
}
