package io.milan.api;

/**
 * Mode-dependent defaults of {@link MilanFinetuneSpec}, from the reference recipes: fine-tuning 128 x 8 GPUs,
 * 100 epochs (5 warmup), blr 1e-4, min_lr 1e-6, weight decay 0.05; linear probing 2048 x 8 GPUs, 100 epochs
 * (10 warmup), blr 0.05 (the seed's ViT-B value), min_lr 0, no weight decay.
 */
public final class FinetuneDefaults {
    private FinetuneDefaults() {
    }

    public static int batchSize(MilanFinetuneSpec s) {
        return s.batchSize != null ? s.batchSize : linprobe(s) ? 2048 : 128;
    }

    public static int epochs(MilanFinetuneSpec s) {
        return s.epochs != null ? s.epochs : 100;
    }

    public static int warmupEpochs(MilanFinetuneSpec s) {
        return s.warmupEpochs != null ? s.warmupEpochs : linprobe(s) ? 10 : 5;
    }

    public static double blr(MilanFinetuneSpec s) {
        return s.blr != null ? s.blr : linprobe(s) ? 0.05 : 1e-4;
    }

    public static double minLr(MilanFinetuneSpec s) {
        return s.minLr != null ? s.minLr : linprobe(s) ? 0.0 : 1e-6;
    }

    public static double weightDecay(MilanFinetuneSpec s) {
        return s.weightDecay != null ? s.weightDecay : linprobe(s) ? 0.0 : 0.05;
    }

    private static boolean linprobe(MilanFinetuneSpec s) {
        return s.mode == FinetuneMode.LINPROBE;
    }
}
