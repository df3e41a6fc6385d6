package io.milan.operator.config;

/**
 * What the operator needs from its configuration (application.properties under {@code milan.*}), as a plain
 * value so reconcilers can also be built without Quarkus (the integration tests do).
 *
 * @param trainerImage image of runs that do not set spec.image
 * @param runAsUser UID of the trainer container (non-root)
 * @param runAsGroup GID of the trainer container
 * @param fsGroup group that owns mounted volumes, so the trainer can write its output claim
 * @param networkPolicy whether each multi-process run gets a NetworkPolicy admitting only its own pods
 *                      (podgroup/RunIsolation); off where trainer pods must accept other traffic
 */
public record OperatorSettings(String trainerImage, long runAsUser, long runAsGroup, long fsGroup,
        boolean networkPolicy) {
    public static final String DEFAULT_TRAINER_IMAGE = "milan/trainer:0.1.0";

    public OperatorSettings {
        if (trainerImage == null || trainerImage.isBlank()) {
            throw new IllegalArgumentException("milan.trainer.image must name an image");
        }
        if (runAsUser <= 0) {
            throw new IllegalArgumentException("milan.trainer.run-as-user must be a non-root UID (> 0), got "
                    + runAsUser);
        }
    }

    public OperatorSettings(String trainerImage, long runAsUser, long runAsGroup, long fsGroup) {
        this(trainerImage, runAsUser, runAsGroup, fsGroup, true);
    }

    public static OperatorSettings defaults() {
        return new OperatorSettings(DEFAULT_TRAINER_IMAGE, 1000, 1000, 1000);
    }
}
