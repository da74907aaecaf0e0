/** study.json: what `esbench study` saves before it prints anything. */
import type { FactorValues, StudySettingsPlan, StudySize } from './study-plan.ts';
import type { TrialFigures } from './trial-figures.ts';
import type { CapacityFigures, Verdict } from './verdicts.ts';

export interface StudyLevelRecord {
  key: string;
  factor: string;
  value: string;
  baseline: string | null;
  description: string;
  values: FactorValues;
  settings: StudySettingsPlan;
}

export interface StudyPair {
  low: number;
  high: number;
  scaled: boolean;
  /** Why the study's rates were scaled (capacity and what saturated), or null. */
  reason: string | null;
}

export interface StudyResult {
  kind: 'study';
  version: 1;
  id: string;
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; memGiB: number; node: string; platform: string; loadAverage: { start: number; end: number } };
  size: StudySize;
  seed: number;
  history: { events: number; lastSequence: number };
  levels: StudyLevelRecord[];
  capacity: CapacityFigures | null;
  studyRates: { low: number; high: number };
  pair: StudyPair;
  memory: { measurable: boolean; reason: string | null };
  trials: TrialFigures[];
  /** One per seed 003 criterion and per claim (contract: criterion, verdict, figure, ci, evidence). */
  verdicts: Verdict[];
  /** True once every setting the study changed was put back. */
  settingsRestored: boolean;
  notes: string[];
}
