/**
 * Kubernetes name, label and resource rules (apimachinery's validation), as one-line problems: each
 * function returns why a value is not valid, or undefined. config/ uses them to check keys before
 * anything talks to a cluster; kube/ uses them on what users type (`-n`, target names).
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Why `name` is not a Kubernetes DNS-1123 label (namespaces, containers), or undefined. */
export function dnsLabelProblem(name: string): string | undefined {
  if (name.length > 63) return 'is longer than 63 characters';
  if (!DNS_LABEL.test(name)) return name.toLowerCase() !== name && DNS_LABEL.test(name.toLowerCase()) ? 'must be lowercase' : 'must be lowercase letters, digits and `-`, starting and ending with a letter or digit';
  return undefined;
}

/** Why `name` is not a Kubernetes object name (DNS-1123 subdomain), or undefined. */
export function objectNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'is longer than 253 characters';
  if (!DNS_SUBDOMAIN.test(name)) return name.toLowerCase() !== name && DNS_SUBDOMAIN.test(name.toLowerCase()) ? 'must be lowercase' : 'must be lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit';
  return undefined;
}

/** Why `name` is not a valid namespace name (a DNS-1123 label), as a whole phrase, or undefined. */
export function namespaceProblem(name: string): string | undefined {
  const problem = dnsLabelProblem(name);
  return problem ? `namespace \`${name}\` ${problem}` : undefined;
}

/** Why `key` is not a valid label/annotation key (`[prefix/]name`), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `key \`${key}\`: the prefix before \`/\` must be a DNS subdomain like \`example.com\``;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name))
    return `key \`${key}\` must be at most 63 letters, digits, \`-\`, \`_\` or \`.\`, starting and ending with a letter or digit (optionally after a \`prefix/\`)`;
  return undefined;
}

/** Why `value` is not a valid label value (empty is valid), or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value))
    return `value \`${value}\` must be at most 63 letters, digits, \`-\`, \`_\` or \`.\`, starting and ending with a letter or digit`;
  return undefined;
}

/** Why `name` is not a container resource name (`cpu`, `memory`, `hugepages-2Mi`, `example.com/gpu`…), as a whole phrase, or undefined. */
export function resourceNameProblem(name: string): string | undefined {
  if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-')) return undefined;
  const problem = labelKeyProblem(name);
  return problem && `resource name ${problem.replace(/^key /, '')}`;
}

const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[mkMGTPE]|[eE][+-]?\d+)?$/;

/** Why `text` is not a resource quantity (`100m`, `1`, `128Mi`), as a whole phrase, or undefined. */
export function quantityProblem(text: string): string | undefined {
  return QUANTITY.test(text) ? undefined : `\`${text}\` is not a Kubernetes quantity (e.g. \`100m\`, \`1\`, \`128Mi\`)`;
}

/**
 * `text` made into a valid label value: characters outside the label alphabet become `-`, cut to
 * 63, trimmed to start and end with a letter or digit (used for user and host names on agent pods).
 */
export function toLabelValue(text: string): string {
  let v = text.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 63);
  v = v.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  return v;
}
