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

/** Fine-tuning or linear probing of a MILAN-pretrained encoder, with evaluation after every epoch. */
@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames({"mft", "milanft"})
@Categories(ApiGroup.CATEGORY)
// Columns in the order kubectl shows them (the build keeps this order; MilanCrdPostProcessor): the default
// view ends with AGE, the -o wide columns (priority 1) follow it, as kubectl does for Jobs and Pods.
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".spec.mode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Model", jsonPath = ".spec.model", type = AdditionalPrinterColumn.Type.STRING,
        priority = 1)
@AdditionalPrinterColumn(name = "Epoch", jsonPath = ".status.progress.epoch",
        type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Progress", jsonPath = ".status.progress.percent",
        type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Top-1", jsonPath = ".status.eval.top1", type = AdditionalPrinterColumn.Type.NUMBER)
@AdditionalPrinterColumn(name = "Best", jsonPath = ".status.eval.bestTop1", type = AdditionalPrinterColumn.Type.NUMBER,
        priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp",
        type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Nodes", jsonPath = ".spec.nodes", type = AdditionalPrinterColumn.Type.INTEGER,
        priority = 1)
@AdditionalPrinterColumn(name = "World", jsonPath = ".status.worldSize", type = AdditionalPrinterColumn.Type.INTEGER,
        priority = 1)
@AdditionalPrinterColumn(name = "Attempt", jsonPath = ".status.attempt",
        type = AdditionalPrinterColumn.Type.INTEGER, priority = 1)
@AdditionalPrinterColumn(name = "Message", jsonPath = ".status.message", type = AdditionalPrinterColumn.Type.STRING,
        priority = 1)
// Fields that shape the run may change until it starts, never after (a resumed attempt must train the same run).
@ValidationRule(value = PodSpecOverrides.SERVICE_ACCOUNT_UNCHANGED, message = PodSpecOverrides.SERVICE_ACCOUNT_MESSAGE,
        fieldPath = PodSpecOverrides.SERVICE_ACCOUNT_FIELD)
@ValidationRule(value = UNLESS_STARTED + "self.spec.mode == oldSelf.spec.mode",
        message = "spec.mode cannot change once the run has started", fieldPath = ".spec.mode")
@ValidationRule(value = UNLESS_STARTED + "self.spec.pretrained == oldSelf.spec.pretrained",
        message = "spec.pretrained cannot change once the run has started", fieldPath = ".spec.pretrained")
@ValidationRule(value = UNLESS_STARTED + "self.spec.model == oldSelf.spec.model",
        message = "spec.model cannot change once the run has started", fieldPath = ".spec.model")
@ValidationRule(value = UNLESS_STARTED + "has(self.spec.patchSize) == has(oldSelf.spec.patchSize)"
        + " && (!has(self.spec.patchSize) || self.spec.patchSize == oldSelf.spec.patchSize)",
        message = "spec.patchSize cannot change once the run has started", fieldPath = ".spec.patchSize")
@ValidationRule(value = UNLESS_STARTED + "self.spec.inputSize == oldSelf.spec.inputSize",
        message = "spec.inputSize cannot change once the run has started", fieldPath = ".spec.inputSize")
@ValidationRule(value = UNLESS_STARTED + "self.spec.accumIter == oldSelf.spec.accumIter",
        message = "spec.accumIter cannot change once the run has started", fieldPath = ".spec.accumIter")
@ValidationRule(value = UNLESS_STARTED + "has(self.spec.batchSize) == has(oldSelf.spec.batchSize)"
        + " && (!has(self.spec.batchSize) || self.spec.batchSize == oldSelf.spec.batchSize)",
        message = "spec.batchSize cannot change once the run has started", fieldPath = ".spec.batchSize")
@ValidationRule(value = UNLESS_STARTED + "has(self.spec.epochs) == has(oldSelf.spec.epochs)"
        + " && (!has(self.spec.epochs) || self.spec.epochs == oldSelf.spec.epochs)",
        message = "spec.epochs cannot change once the run has started", fieldPath = ".spec.epochs")
@ValidationRule(value = UNLESS_STARTED + "self.spec.numClasses == oldSelf.spec.numClasses",
        message = "spec.numClasses cannot change once the run has started", fieldPath = ".spec.numClasses")
@ValidationRule(value = UNLESS_STARTED + "self.spec.globalPool == oldSelf.spec.globalPool",
        message = "spec.globalPool cannot change once the run has started", fieldPath = ".spec.globalPool")
@ValidationRule(value = UNLESS_STARTED + "self.spec.dataset == oldSelf.spec.dataset",
        message = "spec.dataset cannot change once the run has started", fieldPath = ".spec.dataset")
@ValidationRule(value = UNLESS_STARTED + "has(self.spec.output) == has(oldSelf.spec.output)"
        + " && (!has(self.spec.output) || self.spec.output == oldSelf.spec.output)",
        message = "spec.output cannot change once the run has started", fieldPath = ".spec.output")
@ValidationRule(value = UNLESS_STARTED + "self.spec.nodes == oldSelf.spec.nodes",
        message = "spec.nodes cannot change once the run has started", fieldPath = ".spec.nodes")
@ValidationRule(value = UNLESS_STARTED + "self.spec.gpusPerNode == oldSelf.spec.gpusPerNode",
        message = "spec.gpusPerNode cannot change once the run has started", fieldPath = ".spec.gpusPerNode")
public class MilanFinetune extends CustomResource<MilanFinetuneSpec, RunStatus> implements Namespaced {
    public static final String KIND = "MilanFinetune";
}
