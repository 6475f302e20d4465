/**
 * @ablate/classifier: the judges of the mode-mixing metric. Two digit classifiers of different architecture and seed,
 * each trained once per dataset and cached, label a flow's generated samples: class-consistency, the confusion matrix
 * and the two judges' agreement per run.
 */
export { cnnLogits, cnnVariableNames, disposeCnn, initCnn, type CnnConfig, type CnnParams } from './cnn';
export {
  augmentImages,
  classifierAccuracy,
  predictClasses,
  trainClassifier,
  type Augmentation,
  type ClassifierProgress,
  type ClassifierTraining,
} from './train-classifier';
export {
  CLASSIFIER_FORMAT,
  classifierKey,
  loadOrTrainClassifier,
  readClassifier,
  type ClassifierLog,
  type ClassifierManifest,
  type LoadedClassifier,
  type TrainLock,
} from './classifier-cache';
export { classConsistency, judgeAgreement, type Consistency } from './consistency';
export { DEEP_JUDGE, JUDGES, SHALLOW_JUDGE, withEpochs, type JudgeSpec } from './judges';
