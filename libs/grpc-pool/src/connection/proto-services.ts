import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { GrpcPoolOptionsError } from '../errors/grpc-pool.errors';
import type { ResolvedGrpcPoolOptions } from '../options/grpc-pool.options';

/** A service of the pool's packages, with the kind of each method. @internal */
export interface ProtoService {
  name: string;
  ctor: ServiceClientConstructor;
  methods: Map<string, { path: string; requestStream: boolean; responseStream: boolean }>;
}

/**
 * Loads the .proto files and returns the services of the configured packages, keyed by simple
 * name (and `package.Service`). Fails naming `protoPath` or `package`. @internal
 */
export function loadProtoServices(options: ResolvedGrpcPoolOptions): Map<string, ProtoService> {
  let definition;
  try {
    definition = loadPackageDefinition(loadSync(options.protoPaths, options.loader));
  } catch (error) {
    throw new GrpcPoolOptionsError(
      options.name,
      'protoPath',
      options.protoPaths,
      `cannot load: ${(error as Error).message}`,
    );
  }
  const services = new Map<string, ProtoService>();
  for (const pkg of options.packages) {
    const node = pkg
      .split('.')
      .reduce<unknown>((n, part) => (n as Record<string, unknown> | undefined)?.[part], definition);
    if (typeof node !== 'object' || node === null) {
      throw new GrpcPoolOptionsError(
        options.name,
        'package',
        pkg,
        'no such package in the proto files',
      );
    }
    for (const [name, value] of Object.entries(node)) {
      if (typeof value !== 'function' || !('service' in value)) continue;
      const ctor = value as ServiceClientConstructor;
      const methods = new Map<
        string,
        { path: string; requestStream: boolean; responseStream: boolean }
      >();
      for (const [methodName, def] of Object.entries(ctor.service)) {
        const entry = {
          path: def.path,
          requestStream: def.requestStream,
          responseStream: def.responseStream,
        };
        methods.set(methodName, entry);
        if (def.originalName && def.originalName !== methodName)
          methods.set(def.originalName, entry);
      }
      const service = { name, ctor, methods };
      services.set(name, service);
      services.set(`${pkg}.${name}`, service);
    }
  }
  if (services.size === 0) {
    throw new GrpcPoolOptionsError(
      options.name,
      'package',
      options.packages,
      'the package defines no service',
    );
  }
  return services;
}
