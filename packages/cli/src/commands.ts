// Command groups of the ocrops CLI. Each package exports its command table; this file only wires them together
// (and hands the sweep package's search algorithm to the tracker server, which stores sweep state and calls it).
import type { CommandTable } from '@ocrops/common';
import { commands as dataCommands } from '@ocrops/data';
import { commands as sweepCommands, optimizerAlgorithm } from '@ocrops/sweep';
import { makeTrackerCommands } from '@ocrops/tracker';
import { commands as trainerCommands } from '@ocrops/trainer';
import { servicesCommands, weightsCommands } from '@ocrops/versioning';

export const groups: Record<string, CommandTable> = {
  data: dataCommands,
  trainer: trainerCommands,
  sweep: sweepCommands,
  tracker: makeTrackerCommands({ optimizer: optimizerAlgorithm }),
  weights: weightsCommands,
  services: servicesCommands,
};
