/**
 * mirrord keys podlink does not support (yet), by the object they appear in. Such a key is an
 * error that says so (CONFIG_UNSUPPORTED) rather than "unknown key", and is never ignored. Remove an
 * entry here when the key lands in the schema.
 *
 * A few mirrord keys are accepted when set to the value that matches what podlink does anyway
 * (`"operator": false`, …): see ACCEPTED_AT_DEFAULT. They produce a notice, not an error.
 */

/** Object path (dotted, `[]` for list items) → mirrord keys podlink does not support there. */
export const UNSUPPORTED_MIRRORD_KEYS: Record<string, readonly string[]> = {
  '': [
    'api', 'baggage', 'ci', 'container', 'experimental', 'external_proxy', 'key', 'multi_cluster', 'profile',
    'sip_binaries', 'skip_build_tools', 'skip_extra_build_tools', 'skip_processes', 'skip_sip',
    'startup_retry', 'traceparent', 'use_proxy',
  ],
  'target.path': ['labels'],
  agent: [
    'check_out_of_pods', 'clean_iptables_on_start', 'disable_mesh_sidecar_injection', 'dns',
    'exclude_from_mesh', 'external_ip_fix', 'flush_connections', 'http_detection_timeout', 'inject_headers',
    'jaq_time_limit', 'max_body_buffer_size', 'max_body_buffer_timeout', 'metrics', 'nftables',
    'override_cache_control', 'security_context', 'test_error',
  ],
  'agent.resources': ['claims'],
  feature: ['copy_target', 'db_branches', 'magic', 'preview', 'split_queues'],
  'feature.env': ['mapping', 'unset'],
  'feature.fs': ['mapping', 'readonly_file_buffer'],
  'feature.network.incoming': ['tls_delivery', 'https_delivery'],
  'feature.network.incoming.http_filter': ['body_filter', 'header_filter_jq'],
  'feature.network.incoming.http_filter.all_of[]': ['body', 'query', 'matches'],
  'feature.network.incoming.http_filter.any_of[]': ['body', 'query', 'matches'],
  'feature.network.outgoing': ['unix_streams'],
  internal_proxy: ['ping_interval', 'process_logging_interval', 'json_log', 'socket_timeout'],
};

/**
 * mirrord keys accepted only at the value that describes what podlink does anyway. Any other value
 * is CONFIG_UNSUPPORTED.
 */
export const ACCEPTED_AT_DEFAULT: Record<string, { value: unknown; why: string }> = {
  operator: { value: false, why: 'podlink has no operator' },
  telemetry: { value: false, why: 'podlink sends no telemetry' },
  'feature.env.load_from_process': { value: false, why: 'podlink always fetches the environment before starting the process' },
};
