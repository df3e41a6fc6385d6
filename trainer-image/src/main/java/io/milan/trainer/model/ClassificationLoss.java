package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.torch.TorchOps;

/**
 * The classification losses of the reference recipes, over logits [N, C], each the mean over the batch:
 * timm's {@code SoftTargetCrossEntropy} (fine-tuning with mixup/cutmix), {@code LabelSmoothingCrossEntropy}
 * (fine-tuning without mixup) and {@code torch.nn.CrossEntropyLoss} (linear probing, evaluation).
 */
public final class ClassificationLoss {

    private ClassificationLoss() {
    }

    /** {@code mean_n Σ_c −target[n,c] · log_softmax(logits)[n,c]}; targets [N, C] (e.g. from Mixup). */
    public static NDArray softTarget(NDArray logits, NDArray targets) {
        requireLogits(logits);
        if (!targets.getShape().equals(logits.getShape())) {
            throw new IllegalArgumentException("soft targets " + targets.getShape() + " do not match logits "
                    + logits.getShape());
        }
        return logSoftmax(logits).mul(targets).sum(new int[] {-1}).neg().mean();
    }

    /**
     * timm's LabelSmoothingCrossEntropy: {@code (1 − s)·nll(label) + s·mean_c(−log_softmax)}, averaged over the
     * batch. {@code labels} are class indices [N] (int64).
     */
    public static NDArray labelSmoothing(NDArray logits, NDArray labels, double smoothing) {
        if (!(smoothing >= 0 && smoothing < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        }
        NDArray logProbs = logSoftmax(logits);
        NDArray nll = pick(logProbs, labels).neg();
        NDArray smooth = logProbs.mean(new int[] {-1}).neg();
        return Layers.scale(nll, 1 - smoothing).add(Layers.scale(smooth, smoothing)).mean();
    }

    /** {@code torch.nn.CrossEntropyLoss()}: mean of −log_softmax(logits)[n, label_n]. */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        return pick(logSoftmax(logits), labels).neg().mean();
    }

    /** logProbs[n, labels[n]] as [N], with the label checks torch makes. */
    private static NDArray pick(NDArray logProbs, NDArray labels) {
        requireLogits(logProbs);
        long n = logProbs.getShape().get(0);
        long classes = logProbs.getShape().get(1);
        if (!labels.getShape().equals(new Shape(n))) {
            throw new IllegalArgumentException("labels " + labels.getShape() + " do not match logits "
                    + logProbs.getShape() + " (expected [" + n + "])");
        }
        NDArray index = labels.toType(DataType.INT64, false);
        long min = index.min().getLong();
        long max = index.max().getLong();
        if (min < 0 || max >= classes) {
            throw new IllegalArgumentException("labels must be class indices in [0, " + classes + "), got range ["
                    + min + ", " + max + "]");
        }
        return logProbs.gather(index.reshape(n, 1), 1).reshape(n);
    }

    /**
     * log_softmax over the classes in float32: under autocast PyTorch computes its cross-entropy losses in float32
     * (on the CPU and on CUDA), so float16/bfloat16 logits are cast up first.
     */
    private static NDArray logSoftmax(NDArray logits) {
        return TorchOps.logSoftmax(Layers.float32(logits), -1);
    }

    private static void requireLogits(NDArray logits) {
        if (logits.getShape().dimension() != 2) {
            throw new IllegalArgumentException("logits must be [N, classes], got " + logits.getShape());
        }
    }
}
