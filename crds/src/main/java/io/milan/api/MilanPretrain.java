package io.milan.api;

import static io.milan.api.ApiGroup.UNLESS_STARTED;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** MILAN pretraining of a ViT encoder against a frozen teacher's per-token features. */
@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames({"mpt", "milanpt"})
@Categories(ApiGroup.CATEGORY)
// Columns in the order kubectl shows them (the build keeps this order; MilanCrdPostProcessor): the default
// view ends with AGE, the -o wide columns (priority 1) follow it, as kubectl does for Jobs and Pods.
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Model", jsonPath = ".spec.model", type = AdditionalPrinterColumn.Type.STRING,
        priority = 1)
@AdditionalPrinterColumn(name = "Epoch", jsonPath = ".status.progress.epoch",
        type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Progress", jsonPath = ".status.progress.percent",
        type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Loss", jsonPath = ".status.progress.trainLoss",
        type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp",
        type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Nodes", jsonPath = ".spec.nodes", type = AdditionalPrinterColumn.Type.INTEGER,
        priority = 1)
@AdditionalPrinterColumn(name = "World", jsonPath = ".status.worldSize", type = AdditionalPrinterColumn.Type.INTEGER,
        priority = 1)
@AdditionalPrinterColumn(name = "Attempt", jsonPath = ".status.attempt",
        type = AdditionalPrinterColumn.Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Checkpoint", jsonPath = ".status.checkpoint.epoch",
        type = AdditionalPrinterColumn.Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Message", jsonPath = ".status.message", type = AdditionalPrinterColumn.Type.STRING,
        priority = 1)
// Fields that shape the run may change until it starts, never after (a resumed attempt must train the same run).
@ValidationRule(value = PodSpecOverrides.SERVICE_ACCOUNT_UNCHANGED, message = PodSpecOverrides.SERVICE_ACCOUNT_MESSAGE,
        fieldPath = PodSpecOverrides.SERVICE_ACCOUNT_FIELD)
@ValidationRule(value = UNLESS_STARTED + "self.spec.model == oldSelf.spec.model",
        message = "spec.model cannot change once the run has started", fieldPath = ".spec.model")
@ValidationRule(value = UNLESS_STARTED + "has(self.spec.patchSize) == has(oldSelf.spec.patchSize)"
        + " && (!has(self.spec.patchSize) || self.spec.patchSize == oldSelf.spec.patchSize)",
        message = "spec.patchSize cannot change once the run has started", fieldPath = ".spec.patchSize")
@ValidationRule(value = UNLESS_STARTED + "self.spec.inputSize == oldSelf.spec.inputSize",
        message = "spec.inputSize cannot change once the run has started", fieldPath = ".spec.inputSize")
@ValidationRule(value = UNLESS_STARTED + "self.spec.batchSize == oldSelf.spec.batchSize",
        message = "spec.batchSize cannot change once the run has started", fieldPath = ".spec.batchSize")
@ValidationRule(value = UNLESS_STARTED + "self.spec.accumIter == oldSelf.spec.accumIter",
        message = "spec.accumIter cannot change once the run has started", fieldPath = ".spec.accumIter")
@ValidationRule(value = UNLESS_STARTED + "self.spec.epochs == oldSelf.spec.epochs",
        message = "spec.epochs cannot change once the run has started", fieldPath = ".spec.epochs")
@ValidationRule(value = UNLESS_STARTED + "self.spec.warmupEpochs == oldSelf.spec.warmupEpochs",
        message = "spec.warmupEpochs cannot change once the run has started", fieldPath = ".spec.warmupEpochs")
@ValidationRule(value = UNLESS_STARTED + "self.spec.blr == oldSelf.spec.blr",
        message = "spec.blr cannot change once the run has started", fieldPath = ".spec.blr")
@ValidationRule(value = UNLESS_STARTED + "self.spec.maskRatio == oldSelf.spec.maskRatio",
        message = "spec.maskRatio cannot change once the run has started", fieldPath = ".spec.maskRatio")
@ValidationRule(value = UNLESS_STARTED + "self.spec.teacher == oldSelf.spec.teacher",
        message = "spec.teacher cannot change once the run has started", fieldPath = ".spec.teacher")
@ValidationRule(value = UNLESS_STARTED + "self.spec.promptingDecoder == oldSelf.spec.promptingDecoder",
        message = "spec.promptingDecoder cannot change once the run has started",
        fieldPath = ".spec.promptingDecoder")
@ValidationRule(value = UNLESS_STARTED + "has(self.spec.decoder) == has(oldSelf.spec.decoder)"
        + " && (!has(self.spec.decoder) || self.spec.decoder == oldSelf.spec.decoder)",
        message = "spec.decoder cannot change once the run has started", fieldPath = ".spec.decoder")
@ValidationRule(value = UNLESS_STARTED + "self.spec.semanticMasking == oldSelf.spec.semanticMasking",
        message = "spec.semanticMasking cannot change once the run has started",
        fieldPath = ".spec.semanticMasking")
@ValidationRule(value = UNLESS_STARTED + "self.spec.dataset == oldSelf.spec.dataset",
        message = "spec.dataset cannot change once the run has started", fieldPath = ".spec.dataset")
@ValidationRule(value = UNLESS_STARTED + "self.spec.nodes == oldSelf.spec.nodes",
        message = "spec.nodes cannot change once the run has started", fieldPath = ".spec.nodes")
@ValidationRule(value = UNLESS_STARTED + "self.spec.gpusPerNode == oldSelf.spec.gpusPerNode",
        message = "spec.gpusPerNode cannot change once the run has started", fieldPath = ".spec.gpusPerNode")
@ValidationRule(value = UNLESS_STARTED + "has(self.spec.output) == has(oldSelf.spec.output)"
        + " && (!has(self.spec.output) || self.spec.output == oldSelf.spec.output)",
        message = "spec.output cannot change once the run has started", fieldPath = ".spec.output")
public class MilanPretrain extends CustomResource<MilanPretrainSpec, RunStatus> implements Namespaced {
    public static final String KIND = "MilanPretrain";
}
