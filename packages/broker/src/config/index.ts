// The broker's configuration: mosquitto.conf and the command line.
export * from './types.js';
export { FEATURES, IMPLEMENTED_FEATURES, type Feature } from './features.js';
export { OPTIONS, optionInfo, type OptionInfo, type OptionScope, type ReloadTag } from './options.js';
export {
  BROKER_VERSION_TEXT,
  COMMAND_LINE_PORT_LIMIT,
  parseCommandLine,
  usageText,
  type CommandLineExit,
  type CommandLineOptions,
  type CommandLineResult,
} from './command-line.js';
export { compareIncludePaths, nodeConfigFileSystem, type ConfigFileSystem, type LoadOptions } from './parser.js';
export {
  defaultConfig,
  loadBrokerConfig,
  loadConfigFile,
  loadConfigFiles,
  parseConfig,
  type BrokerStartup,
  type CommandLineSettings,
} from './load.js';
export { RELOADED_FIELDS, mergeReloadedConfig, reloadConfig, reloadableOptions, type ReloadableSplit } from './reload.js';
export { unsupportedOptionMessage, unsupportedOptions } from './unsupported.js';
export { toBrokerSettings } from './to-settings.js';
