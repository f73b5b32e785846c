/**
 * The YAML 1.1 tags as kubectl's decoder (go-yaml v2) applies them.
 */
import type { Tags } from 'yaml';

/**
 * YAML 1.1 without timestamps and base-60 numbers, as kubectl reads manifests: `release:
 * 2024-01-01` stays a string and `02:30` is not 150.
 */
export function kubectlTags(tags: Tags): Tags {
  return tags.filter((t) => typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:timestamp' && !('format' in t && t.format === 'TIME')));
}
