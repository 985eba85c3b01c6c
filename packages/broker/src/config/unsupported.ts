// "Not supported yet": the option lines of a config whose feature skeeter does not have yet,
// so the broker fails at startup naming them instead of ignoring them.

import { FEATURES, IMPLEMENTED_FEATURES, type Feature } from './features.js';
import type { BrokerConfig, OptionUse } from './types.js';

export function unsupportedOptions(
  config: BrokerConfig,
  implemented: Readonly<Record<Feature, boolean>> = IMPLEMENTED_FEATURES,
): OptionUse[] {
  return config.optionUses.filter((u) => implemented[u.feature as Feature] !== true);
}

/** One error line for an unsupported option, e.g. for the bin to print before exiting 3. */
export function unsupportedOptionMessage(use: OptionUse): string {
  const label = Object.hasOwn(FEATURES, use.feature) ? FEATURES[use.feature as Feature] : use.feature;
  return `Error: The ${use.option} option is not supported yet in skeeter (${label}), found at ${use.file}:${use.line}.`;
}
