/**
 * KIND batch-endpoint: a batch endpoint and a model batch deployment of the registry model, shaped like Azure's
 * image-classification sample (deploy-batch.yaml). A batch deployment runs on a compute cluster, so the chosen SKU
 * is the size that cluster should have.
 */
import {azureMlSchemaUrl} from '../azureml/schemas.js'
import {endpointName, instanceTypeLine, provenance, registryModelUri, type BuildContext, type BuildOutput} from './context.js'

export function buildBatchEndpoint(ctx: BuildContext): BuildOutput {
  const d = ctx.defaults.batch
  const f = ctx.facts
  const name = endpointName(f.name, 'batch')
  const compute = ctx.compute ?? d.compute
  const task = f.task ?? 'image-classification'
  const endpoint = {
    $schema: azureMlSchemaUrl('batchEndpoint'),
    name,
    description: `Batch endpoint for ${f.name} (${task})`,
    auth_mode: d.auth_mode,
  }
  const deployment = {
    $schema: azureMlSchemaUrl('modelBatchDeployment'),
    name: d.deployment_name,
    endpoint_name: name,
    type: 'model',
    description: `Batch deployment of ${f.name} version ${f.version} for ${task}`,
    model: registryModelUri(f, ctx.registry),
    compute: `azureml:${compute}`,
    resources: {instance_count: d.instance_count},
    settings: {
      mini_batch_size: d.mini_batch_size,
      output_action: d.output_action,
      output_file_name: d.output_file_name,
      retry_settings: {...d.retry_settings},
    },
  }
  const size = ctx.instanceType?.name ?? '<SKU>'
  return {
    documents: [
      {
        role: 'endpoint',
        schema: 'batchEndpoint',
        fileName: 'batch-endpoint.yaml',
        content: {
          data: endpoint,
          header: [...provenance(ctx), 'Create it first: az ml batch-endpoint create --file batch-endpoint.yaml -g <group> -w <workspace>'],
        },
      },
      {
        role: 'deployment',
        schema: 'modelBatchDeployment',
        fileName: 'batch-deployment.yaml',
        content: {
          data: deployment,
          header: [
            ...provenance(ctx),
            ...instanceTypeLine(ctx.instanceType, `compute cluster ${compute} size`),
            `The cluster, if it does not exist: az ml compute create --name ${compute} --type amlcompute --min-instances 0 --max-instances 2 --size ${size}`,
            'Then: az ml batch-deployment create --file batch-deployment.yaml --set-default -g <group> -w <workspace>',
          ],
        },
      },
    ],
    dataFiles: [],
    warnings: [],
  }
}
