package io.milan.operator.status;

import io.milan.api.FinetuneDefaults;
import io.milan.api.MilanFinetuneSpec;
import io.milan.api.MilanPretrainSpec;
import io.milan.api.RunSpec;

/**
 * Values computed once from the spec and shown in status, as the reference README explains them: world size =
 * nodes x devices per node (one trainer process each); effective batch = batchSize x world size x accumIter;
 * lr = blr x effective batch / 256 unless lr is set.
 */
public record DerivedValues(int worldSize, int effectiveBatchSize, double effectiveLr) {

    public static DerivedValues of(RunSpec spec) {
        int batch;
        double blr;
        if (spec instanceof MilanPretrainSpec p) {
            batch = p.batchSize;
            blr = p.blr;
        } else {
            MilanFinetuneSpec f = (MilanFinetuneSpec) spec;
            batch = FinetuneDefaults.batchSize(f);
            blr = FinetuneDefaults.blr(f);
        }
        int effective = batch * spec.worldSize() * spec.accumIter;
        double lr = spec.lr != null ? spec.lr : blr * effective / 256.0;
        return new DerivedValues(spec.worldSize(), effective, lr);
    }
}
