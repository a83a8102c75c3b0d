/**
 * The sections of report.md and report.html, in order. Each builder returns one section (or
 * null); a new fragment of the reports is one more line here.
 */
import type { SectionBuilder } from './kit.js';
import { energyAnalysisSections } from './sections-energy-analysis.js';
import { energySection } from './sections-energy.js';
import { resourcesSection } from './sections-resources.js';
import { preinitSection } from './sections-preinit.js';
import {
  comparisonsSection,
  failuresSection,
  machineSection,
  microSection,
  outputCheckSection,
} from './sections-run.js';
import {
  cellsSection,
  coldStartSection,
  runTimeSection,
  sandboxStartSection,
  totalSection,
} from './sections-timing.js';

export const REPORT_SECTIONS: SectionBuilder[] = [
  failuresSection,
  outputCheckSection,
  coldStartSection,
  sandboxStartSection,
  runTimeSection,
  totalSection,
  resourcesSection,
  preinitSection,
  energySection,
  energyAnalysisSections,
  comparisonsSection,
  cellsSection,
  microSection,
  machineSection,
];
