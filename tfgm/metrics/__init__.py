"""Evaluation: likelihood estimates, attribute agreement, sample-quality scores, detection."""

from tfgm.metrics.attributes import (attribute_agreement, blind_baselines, majority_baseline, mean_image_baseline,
                                     subset_mean)
from tfgm.metrics.likelihood import elbo, importance_weighted_nll
from tfgm.metrics.frechet import StreamingStatistics, feature_statistics, frechet_distance
from tfgm.metrics.inception_score import inception_score
from tfgm.metrics.attribute_score import attribute_inception_score
from tfgm.metrics.kid import kernel_inception_distance
from tfgm.metrics.mode_coverage import mode_coverage
from tfgm.metrics.detection import detection_auroc, reconstruction_error_ratio, roc_curve
from tfgm.metrics.detection_report import detection_summary, group_detection
from tfgm.metrics.free_running import drift_at_steps, free_running_drift, recurrent_stepper, unigram_bits
from tfgm.metrics.off_manifold import SCORES as OFF_MANIFOLD_SCORES, off_manifold_score
from tfgm.metrics.robustness import gradient_masking_report, robust_accuracy
from tfgm.metrics.latent_probe import attribute_probe_accuracy, latent_probe_accuracy
from tfgm.metrics.evaluator import GeneratorEvaluator, evaluate_generator
from tfgm.metrics.partition import (ais_log_partition, exact_log_partition, exact_samples, rais_log_partition,
                                    rbm_log_likelihood)
from tfgm.metrics.quadrature import (box_grid, log_densities_on_grid, log_partition_on_grid,
                                     total_variation_on_grid)
