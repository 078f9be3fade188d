/**
 * KIND online-endpoint: a managed online endpoint and its deployment of the registry model, shaped like Azure's
 * image-classification sample (deploy-online.yaml) with the instance type taken from the asset's allow list.
 */
import {azureMlSchemaUrl} from '../azureml/schemas.js'
import {endpointName, instanceTypeLine, provenance, registryModelUri, type BuildContext, type BuildOutput} from './context.js'

export function buildOnlineEndpoint(ctx: BuildContext): BuildOutput {
  const d = ctx.defaults.online
  const f = ctx.facts
  const name = endpointName(f.name, 'online')
  const endpoint = {
    $schema: azureMlSchemaUrl('managedOnlineEndpoint'),
    name,
    description: `Online endpoint for ${f.name} (${f.task ?? 'image-classification'})`,
    auth_mode: d.auth_mode,
  }
  const deployment = {
    $schema: azureMlSchemaUrl('managedOnlineDeployment'),
    name: d.deployment_name,
    endpoint_name: name,
    model: registryModelUri(f, ctx.registry),
    instance_type: ctx.instanceType?.name,
    instance_count: d.instance_count,
    liveness_probe: {...d.liveness_probe},
    readiness_probe: {...d.readiness_probe},
    request_settings: {...d.request_settings},
  }
  return {
    documents: [
      {
        role: 'endpoint',
        schema: 'managedOnlineEndpoint',
        fileName: 'online-endpoint.yaml',
        content: {
          data: endpoint,
          header: [...provenance(ctx), 'Create it first: az ml online-endpoint create --file online-endpoint.yaml -g <group> -w <workspace>'],
        },
      },
      {
        role: 'deployment',
        schema: 'managedOnlineDeployment',
        fileName: 'online-deployment.yaml',
        content: {
          data: deployment,
          header: [
            ...provenance(ctx),
            ...instanceTypeLine(ctx.instanceType, 'instance_type'),
            'Then: az ml online-deployment create --file online-deployment.yaml --all-traffic -g <group> -w <workspace>',
          ],
        },
      },
    ],
    dataFiles: [],
    warnings: [],
  }
}
