import type { ResolvedGrpcPoolOptions } from '../options/grpc-pool.options';

/**
 * Channel options of connections to discovered addresses: each dials `ipv4:IP:port`, but the
 * `:authority` header and, with TLS, the name checked against the certificate (and sent as SNI)
 * stay the service's name, as if the channel had dialled `dns:///host:port`. Options the user set
 * (`channelOptions`, `credentials.tls.serverName`) win. @internal
 */
export function discoveredChannelOptions(
  options: ResolvedGrpcPoolOptions,
  channelOptions: Record<string, string | number>,
): Record<string, string | number> {
  const discovery = options.discovery;
  if (!discovery) return channelOptions;
  return {
    'grpc.default_authority': `${discovery.host}:${discovery.port}`,
    ...(options.tls && { 'grpc.ssl_target_name_override': discovery.host }),
    ...channelOptions,
  };
}
