import type { GeneratedSamples, MetricRow, RunImage, TrainHooks } from '@ablate/train';
import { judgementMetrics, type Judgement } from './consistency';

/** Where a run's results go: the event stream (pnpm worker's run-child) or the run folder (pnpm train). */
export interface ResultSink {
  metrics(rows: MetricRow[]): void;
  muNorms(step: number, norms: number[]): void;
  /** The judges' verdict on a set of samples; its metrics have gone to metrics() already. */
  judged(j: Judgement): void;
  image(img: RunImage): void;
}

/** The trainer's result callbacks, the same for both: metrics, μ norms, the judges' metrics of each set of samples, images. */
export function resultHooks(
  sink: ResultSink,
  judge: (samples: GeneratedSamples) => Promise<Judgement>,
): Pick<TrainHooks, 'onMetrics' | 'onMuNorms' | 'onSamples' | 'onImage'> {
  return {
    onMetrics: (rows) => sink.metrics(rows),
    onMuNorms: (step, norms) => sink.muNorms(step, norms),
    onSamples: async (samples) => {
      const j = await judge(samples);
      sink.metrics(judgementMetrics(j));
      sink.judged(j);
    },
    onImage: (img) => sink.image(img),
  };
}
