/**
 * @ablate/classifier: a small CNN digit classifier, trained once per dataset and cached, that labels a flow's
 * generated samples, giving the mode-mixing metric: class-consistency and the confusion matrix per run.
 */
export { DIGIT_CNN, cnnLogits, disposeCnn, initCnn, type CnnConfig, type CnnParams } from './cnn';
export { DIGIT_TRAINING, classifierAccuracy, predictClasses, trainClassifier, type ClassifierProgress, type ClassifierTraining } from './train-classifier';
export { CLASSIFIER_FORMAT, classifierKey, loadOrTrainClassifier, readClassifier, type ClassifierLog, type ClassifierManifest, type LoadedClassifier } from './classifier-cache';
export { classConsistency, type Consistency } from './consistency';
