// Command groups of the ocrops CLI. Each package exports its command table; this file only wires them together.
import type { CommandTable } from '@ocrops/common';
import { commands as dataCommands } from '@ocrops/data';
import { makeTrackerCommands } from '@ocrops/tracker';
import { commands as trainerCommands } from '@ocrops/trainer';
import { servicesCommands, weightsCommands } from '@ocrops/versioning';

export const groups: Record<string, CommandTable> = {
  data: dataCommands,
  trainer: trainerCommands,
  tracker: makeTrackerCommands(),
  weights: weightsCommands,
  services: servicesCommands,
};
