import { isDeepStrictEqual } from 'node:util';
import type { ResourceType } from './resources.ts';
import { labelSelectorMatcher } from './selectors.ts';
import type { FieldError } from './status.ts';

/**
 * The subset of the API server's validation (pkg/apis/<group>/validation) that a remediation tool can trip over:
 * object names, label syntax, workload replicas/selectors/containers, immutable selectors, ConfigMap keys.
 * Messages use the real wording so clients that surface them read the same as against a cluster.
 */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

function goString(v: unknown): string {
  return JSON.stringify(v);
}

function nameErrors(t: ResourceType, name: unknown): FieldError[] {
  if (typeof name !== 'string' || name === '')
    return [{ field: 'metadata.name', reason: 'FieldValueRequired', detail: 'Required value: name or generateName is required' }];
  if (t.kind === 'Service') {
    if (!DNS1035_LABEL.test(name) || name.length > 63) {
      return [
        {
          field: 'metadata.name',
          reason: 'FieldValueInvalid',
          detail: `Invalid value: ${goString(name)}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
        },
      ];
    }
    return [];
  }
  if (t.kind === 'Namespace') {
    if (!DNS1123_LABEL.test(name) || name.length > 63) {
      return [
        {
          field: 'metadata.name',
          reason: 'FieldValueInvalid',
          detail: `Invalid value: ${goString(name)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        },
      ];
    }
    return [];
  }
  if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    return [
      {
        field: 'metadata.name',
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${goString(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      },
    ];
  }
  return [];
}

function labelErrors(field: string, labels: unknown): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels))
    return [{ field, reason: 'FieldValueInvalid', detail: 'Invalid value: labels must be a map of strings' }];
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      out.push({
        field,
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${goString(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
    }
    if (k.length === 0) out.push({ field, reason: 'FieldValueInvalid', detail: `Invalid value: "": name part must be non-empty` });
  }
  return out;
}

function podSpecErrors(prefix: string, spec: any): FieldError[] {
  const out: FieldError[] = [];
  const containers = spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    out.push({ field: `${prefix}.containers`, reason: 'FieldValueRequired', detail: 'Required value' });
    return out;
  }
  const seen = new Set<string>();
  containers.forEach((c: any, i: number) => {
    const f = `${prefix}.containers[${i}]`;
    if (typeof c?.name !== 'string' || c.name === '')
      out.push({ field: `${f}.name`, reason: 'FieldValueRequired', detail: 'Required value' });
    else if (!DNS1123_LABEL.test(c.name))
      out.push({
        field: `${f}.name`,
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${goString(c.name)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      });
    else if (seen.has(c.name))
      out.push({ field: `${f}.name`, reason: 'FieldValueDuplicate', detail: `Duplicate value: ${goString(c.name)}` });
    else seen.add(c.name);
    if (typeof c?.image !== 'string' || c.image.trim() === '')
      out.push({ field: `${f}.image`, reason: 'FieldValueRequired', detail: 'Required value' });
    for (const [j, e] of (Array.isArray(c?.env) ? c.env : []).entries()) {
      if (typeof e?.name !== 'string' || e.name === '')
        out.push({ field: `${f}.env[${j}].name`, reason: 'FieldValueRequired', detail: 'Required value' });
    }
  });
  return out;
}

function workloadErrors(t: ResourceType, obj: any, old: any | undefined): FieldError[] {
  const out: FieldError[] = [];
  const spec = obj.spec ?? {};
  if (spec.replicas !== undefined && t.kind !== 'DaemonSet') {
    if (!Number.isInteger(spec.replicas))
      out.push({
        field: 'spec.replicas',
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${goString(spec.replicas)}: must be an integer`,
      });
    else if (spec.replicas < 0)
      out.push({
        field: 'spec.replicas',
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`,
      });
  }
  const sel = spec.selector;
  if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
    out.push({ field: 'spec.selector', reason: 'FieldValueRequired', detail: 'Required value' });
  } else if (!labelSelectorMatcher(sel)(spec.template?.metadata?.labels)) {
    out.push({
      field: 'spec.template.metadata.labels',
      reason: 'FieldValueInvalid',
      detail: `Invalid value: ${goString(spec.template?.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  }
  out.push(...labelErrors('spec.template.metadata.labels', spec.template?.metadata?.labels));
  out.push(...podSpecErrors('spec.template.spec', spec.template?.spec));
  if (t.kind === 'Deployment') {
    const pds = spec.progressDeadlineSeconds;
    if (pds !== undefined && (!Number.isInteger(pds) || pds <= (spec.minReadySeconds ?? 0))) {
      out.push({
        field: 'spec.progressDeadlineSeconds',
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${goString(pds)}: must be greater than minReadySeconds`,
      });
    }
  }
  if (old && !isDeepStrictEqual(old.spec?.selector, spec.selector)) {
    out.push({
      field: 'spec.selector',
      reason: 'FieldValueInvalid',
      detail: `Invalid value: ${goString(spec.selector)}: field is immutable`,
    });
  }
  return out;
}

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const VOLUME_SOURCES = [
  'hostPath',
  'local',
  'csi',
  'nfs',
  'iscsi',
  'fc',
  'awsElasticBlockStore',
  'gcePersistentDisk',
  'azureDisk',
  'azureFile',
  'cephfs',
  'rbd',
  'cinder',
  'flexVolume',
  'glusterfs',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'vsphereVolume',
  'photonPersistentDisk',
  'quobyte',
  'flocker',
];

function accessModeErrors(field: string, modes: unknown): FieldError[] {
  if (!Array.isArray(modes) || modes.length === 0) return [{ field, reason: 'FieldValueRequired', detail: 'Required value' }];
  const out: FieldError[] = [];
  for (const m of modes) {
    if (!ACCESS_MODES.includes(m))
      out.push({
        field,
        reason: 'FieldValueNotSupported',
        detail: `Unsupported value: ${goString(m)}: supported values: ${ACCESS_MODES.map((x) => goString(x)).join(', ')}`,
      });
  }
  if (modes.includes('ReadWriteOncePod') && modes.length > 1)
    out.push({ field, reason: 'FieldValueForbidden', detail: 'Forbidden: may not use ReadWriteOncePod with other access modes' });
  return out;
}

/** Resource quantities as the API accepts them (k8s.io/apimachinery/pkg/api/resource). */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+|E[+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$/;

function quantityErrors(field: string, q: unknown, required: boolean): FieldError[] {
  if (q === undefined || q === null) return required ? [{ field, reason: 'FieldValueRequired', detail: 'Required value' }] : [];
  if (typeof q === 'number' ? q < 0 : typeof q !== 'string' || !QUANTITY.test(q)) {
    return [
      {
        field,
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${goString(q)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
      },
    ];
  }
  return [];
}

function secretErrors(obj: any, old: any | undefined): FieldError[] {
  const out: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries<string>(obj.data ?? {})) {
    if (!CONFIGMAP_KEY.test(k))
      out.push({
        field: 'data',
        reason: 'FieldValueInvalid',
        detail: `Invalid value: ${goString(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      });
    size += Buffer.from(v, 'base64').length;
  }
  if (size > 1024 * 1024) out.push({ field: 'data', reason: 'FieldValueTooLong', detail: `Too long: must have at most 1048576 bytes` });
  const data = obj.data ?? {};
  switch (obj.type) {
    case 'kubernetes.io/tls':
      for (const k of ['tls.crt', 'tls.key'])
        if (!(k in data)) out.push({ field: `data[${k}]`, reason: 'FieldValueRequired', detail: 'Required value' });
      break;
    case 'kubernetes.io/dockerconfigjson':
      if (!('.dockerconfigjson' in data))
        out.push({ field: 'data[.dockerconfigjson]', reason: 'FieldValueRequired', detail: 'Required value' });
      break;
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data))
        out.push({ field: 'data[username]', reason: 'FieldValueRequired', detail: 'Required value' });
      break;
    case 'kubernetes.io/service-account-token':
      if (!obj.metadata?.annotations?.['kubernetes.io/service-account.name'])
        out.push({
          field: 'metadata.annotations[kubernetes.io/service-account.name]',
          reason: 'FieldValueRequired',
          detail: 'Required value',
        });
      break;
  }
  if (old) {
    if (old.type !== obj.type)
      out.push({ field: 'type', reason: 'FieldValueInvalid', detail: `Invalid value: ${goString(obj.type)}: field is immutable` });
    if (old.immutable === true) {
      if (!isDeepStrictEqual(old.data ?? {}, obj.data ?? {}))
        out.push({ field: 'data', reason: 'FieldValueForbidden', detail: 'Forbidden: field is immutable when `immutable` is set' });
      if (obj.immutable !== true)
        out.push({ field: 'immutable', reason: 'FieldValueForbidden', detail: 'Forbidden: field is immutable when `immutable` is set' });
    }
  }
  return out;
}

function persistentVolumeErrors(obj: any): FieldError[] {
  const spec = obj.spec ?? {};
  const out = accessModeErrors('spec.accessModes', spec.accessModes);
  if (!spec.capacity || spec.capacity.storage === undefined)
    out.push({ field: 'spec.capacity', reason: 'FieldValueRequired', detail: 'Required value' });
  else out.push(...quantityErrors('spec.capacity[storage]', spec.capacity.storage, true));
  if (!VOLUME_SOURCES.some((s) => spec[s] !== undefined && spec[s] !== null))
    out.push({ field: 'spec', reason: 'FieldValueRequired', detail: 'Required value: must specify a volume type' });
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !['Retain', 'Delete', 'Recycle'].includes(policy)) {
    out.push({
      field: 'spec.persistentVolumeReclaimPolicy',
      reason: 'FieldValueNotSupported',
      detail: `Unsupported value: ${goString(policy)}: supported values: "Delete", "Recycle", "Retain"`,
    });
  }
  return out;
}

function persistentVolumeClaimErrors(obj: any, old: any | undefined): FieldError[] {
  const spec = obj.spec ?? {};
  const out = accessModeErrors('spec.accessModes', spec.accessModes);
  out.push(...quantityErrors('spec.resources[storage]', spec.resources?.requests?.storage, true));
  if (old) {
    // Only the storage request (expansion) may change once the claim exists; binding is the controller's write.
    const strip = (s: any) => ({ ...s, resources: undefined, volumeName: undefined, volumeAttributesClassName: undefined });
    if (!isDeepStrictEqual(strip(old.spec ?? {}), strip(spec)) || (old.spec?.volumeName && old.spec.volumeName !== spec.volumeName)) {
      out.push({
        field: 'spec',
        reason: 'FieldValueForbidden',
        detail: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      });
    }
  }
  return out;
}

/** Field errors for an object about to be stored (`old` is the live object on update). Empty = valid. */
export function validate(t: ResourceType, obj: any, old?: any): FieldError[] {
  const out: FieldError[] = [...nameErrors(t, obj?.metadata?.name), ...labelErrors('metadata.labels', obj?.metadata?.labels)];
  if (obj?.metadata?.annotations !== undefined && obj.metadata.annotations !== null) {
    for (const [k, v] of Object.entries(obj.metadata.annotations as Record<string, unknown>)) {
      if (typeof v !== 'string')
        out.push({
          field: `metadata.annotations`,
          reason: 'FieldValueInvalid',
          detail: `Invalid value: ${goString(v)}: annotation ${k} must be a string`,
        });
    }
  }
  switch (t.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
      out.push(...workloadErrors(t, obj, old));
      break;
    case 'Pod':
      out.push(...podSpecErrors('spec', obj.spec));
      break;
    case 'ConfigMap':
      for (const k of Object.keys(obj.data ?? {})) {
        if (!CONFIGMAP_KEY.test(k))
          out.push({
            field: 'data',
            reason: 'FieldValueInvalid',
            detail: `Invalid value: ${goString(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
          });
        if (typeof obj.data[k] !== 'string')
          out.push({
            field: `data[${k}]`,
            reason: 'FieldValueInvalid',
            detail: `Invalid value: ${goString(obj.data[k])}: must be a string`,
          });
      }
      break;
    case 'Secret':
      out.push(...secretErrors(obj, old));
      break;
    case 'EndpointSlice':
      if (!['IPv4', 'IPv6', 'FQDN'].includes(obj.addressType)) {
        out.push(
          obj.addressType === undefined
            ? { field: 'addressType', reason: 'FieldValueRequired', detail: 'Required value' }
            : {
                field: 'addressType',
                reason: 'FieldValueNotSupported',
                detail: `Unsupported value: ${goString(obj.addressType)}: supported values: "FQDN", "IPv4", "IPv6"`,
              },
        );
      } else if (old && old.addressType !== obj.addressType) {
        out.push({
          field: 'addressType',
          reason: 'FieldValueInvalid',
          detail: `Invalid value: ${goString(obj.addressType)}: field is immutable`,
        });
      }
      (Array.isArray(obj.endpoints) ? obj.endpoints : []).forEach((e: any, i: number) => {
        if (!Array.isArray(e?.addresses) || e.addresses.length === 0)
          out.push({
            field: `endpoints[${i}].addresses`,
            reason: 'FieldValueRequired',
            detail: 'Required value: must contain at least 1 address',
          });
      });
      break;
    case 'PersistentVolume':
      out.push(...persistentVolumeErrors(obj));
      break;
    case 'PersistentVolumeClaim':
      out.push(...persistentVolumeClaimErrors(obj, old));
      break;
    case 'Service': {
      const type = obj.spec?.type ?? 'ClusterIP';
      if (type !== 'ExternalName' && obj.spec?.clusterIP !== 'None' && (!Array.isArray(obj.spec?.ports) || obj.spec.ports.length === 0)) {
        out.push({ field: 'spec.ports', reason: 'FieldValueRequired', detail: 'Required value' });
      }
      break;
    }
  }
  return out;
}
