/** The spec library: reading model assets and validating them the way the azureml-assets CI does, offline. */
export type {AssetResult, Diagnostic, FixRecord, RuleId, Severity, ValidateResult} from './diagnostic.js'
export {RULES, RULE_IDS} from './diagnostic.js'
export {readModelAssetFacts} from './asset.js'
export type {ModelAssetFacts, Scenario, ScenarioSkus} from './facts.js'
export {validatePaths, type ValidateOptions} from './validate.js'
export {toSarif} from './sarif.js'
export {setYamlFileChecker, type YamlFileChecker} from './yaml-hook.js'
