package io.milan.api.crdgen;

import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import java.io.File;
import java.util.List;

/**
 * Writes {@code <plural>.milan.io-v1.yml} of both kinds into a directory with Fabric8's CRD generator (the generator
 * its Maven plugin runs, with the plugin's defaults, so the YAML reads the same), passing each CRD through
 * {@link MilanCrdPostProcessor} before it is written.
 * <p>Usage: {@code GenerateCrds OUTPUT_DIR} (the crds module's build runs it into
 * {@code target/classes/META-INF/fabric8}).
 */
public final class GenerateCrds {
    static final List<Class<? extends HasMetadata>> KINDS = List.of(MilanPretrain.class, MilanFinetune.class);

    private GenerateCrds() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: GenerateCrds OUTPUT_DIR");
            System.exit(2);
        }
        File out = new File(args[0]);
        if (!out.isDirectory() && !out.mkdirs()) {
            System.err.println("GenerateCrds: cannot create the output directory " + out);
            System.exit(1);
        }
        int written = new CRDGenerator()
                .inOutputDir(out)
                .forCRDVersions("v1")
                .customResourceClasses(KINDS)
                .withPostProcessor(new MilanCrdPostProcessor(KINDS))
                .generate();
        if (written != KINDS.size()) {
            System.err.println("GenerateCrds: expected " + KINDS.size() + " CRDs, the generator wrote " + written);
            System.exit(1);
        }
    }
}
