export { DEFAULT_PORTS, OPTIONS, type OptionName, ROLES, type Role } from './defaults.js';
export { type Config, type ConfigSources, describeConfig, loadConfig } from './load.js';
